/**
 * Exactly once across runs of an agency, with real processes: the single
 * bet sent again is stored once; an agency killed mid-stream and started
 * again on the same file stores every bet once; the same id on a different
 * file is refused as a conflict, on both sides, and stores nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sampleAgency } from "../scripts/sample_bets.ts";
import { agency, Central, field, SAMPLE_BET, tempDir } from "./harness.ts";

const BET = { CLI_MODE: "bet", ...SAMPLE_BET };

async function storedRows(storageDir: string): Promise<string[]> {
  return (await Deno.readTextFile(join(storageDir, "bets.csv")))
    .split("\n").filter((l) => l !== "");
}

Deno.test("the single bet sent three times is stored once; another bet under the same id is a conflict", async () => {
  await using dir = await tempDir("tp0-single-");
  await using central = new Central(join(dir.path, "storage"));
  const port = await central.ready();
  for (let run = 1; run <= 3; run++) {
    await using again = agency(2, port, BET);
    assert.equal(await again.exit(), 0, `run ${run}`);
    await again.stdout.waitFor(/action: apuesta_enviada \| result: success/);
  }
  assert.deepEqual(await storedRows(central.storageDir), [
    "2,Santiago Lionel,Lorca,30904465,1999-03-17,7574",
  ]);
  assert.equal(central.stdout.matching(/action: apuesta_almacenada/).length, 1);
  assert.equal(
    central.stdout.matching(/action: apuestas_duplicadas .*agencia: 2/).length,
    2,
  );

  await using other = agency(2, port, { ...BET, NUMERO: "1234" });
  assert.equal(await other.exit(), 1);
  const fails = other.stdout.matching(/result: fail/);
  assert.equal(fails.length, 1, fails.join("\n"));
  assert.match(
    fails[0]!,
    /refused with conflict: .*a different file under the same id/,
  );
  assert.equal(await storedRows(central.storageDir).then((r) => r.length), 1);
  assert.equal(
    central.stdout.matching(
      /action: apertura \| result: fail \| agencia: 2 \|.*a different file under the same id/,
    ).length,
    1,
  );
});

Deno.test("an agency killed mid-stream and run again on its file stores each bet once; another file under its id is refused", async () => {
  await using dir = await tempDir("tp0-rerun-");
  const first = sampleAgency(1, 4_000, 3, 1);
  const second = sampleAgency(2, 200, 2, 1);
  const different = sampleAgency(1, 4_000, 4, 99);
  const file = async (name: string, lines: string[]) => {
    const path = join(dir.path, name);
    await Deno.writeTextFile(path, lines.join("\n") + "\n");
    return path;
  };
  const a = await file("a.csv", first.lines);
  const b = await file("b.csv", different.lines);
  const two = await file("two.csv", second.lines);
  await using central = new Central(join(dir.path, "storage"), {
    AGENCIES: "2",
  });
  const port = await central.ready();
  const env = (path: string) => ({
    CLI_DATA_PATH: path,
    CLI_BATCH_MAXAMOUNT: "10",
  });

  {
    await using killed = agency(1, port, env(a));
    await central.stdout.waitFor(/action: apuesta_recibida \| result: success/);
    killed.kill("SIGKILL");
    await killed.exit();
  }
  const storedBefore = (await storedRows(central.storageDir)).length;
  assert.ok(storedBefore < 4_000, `${storedBefore} stored when killed`);

  await using conflicting = agency(1, port, env(b));
  assert.equal(await conflicting.exit(), 1);
  const fails = conflicting.stdout.matching(/result: fail/);
  assert.equal(fails.length, 1, fails.join("\n"));
  assert.match(
    fails[0]!,
    /action: lottery \| result: fail \| client_id: 1 \| error: .*refused with conflict: Cannot open agency 1's stream: it announces 4000 bets .*a different file under the same id/,
  );
  const central1 = central.stdout.matching(/action: apertura \| result: fail/);
  assert.equal(central1.length, 1);
  assert.match(
    central1[0]!,
    /agencia: 1 \| ip: 127\.0\.0\.1 \| error: Cannot open agency 1's stream/,
  );
  // Nothing of the other file (the killed run's batches in flight may
  // still be committing, so the count is no measure).
  const own = new Set(first.lines.map((l) => `1,${l}`));
  const foreign = (await storedRows(central.storageDir)).filter((r) =>
    !own.has(r)
  );
  assert.deepEqual(foreign, []);

  await using again = agency(1, port, env(a));
  await using agency2 = agency(2, port, env(two));
  for (
    const [program, sample] of [[again, first], [agency2, second]] as const
  ) {
    assert.equal(await program.exit(), 0);
    const line = await program.stdout.waitFor(
      /action: consulta_ganadores \| result: success/,
    );
    assert.equal(Number(field(line, "cant_ganadores")), sample.winners.length);
  }
  // Nothing of the other file, and every bet of agency 1's file once.
  const expected = [
    ...first.lines.map((l) => `1,${l}`),
    ...second.lines.map((l) => `2,${l}`),
  ].sort();
  assert.deepEqual((await storedRows(central.storageDir)).sort(), expected);
});
