/**
 * kill -9 of the whole central after the draw, and a restart with the same
 * storage directory: bets, finished agencies and the draw are kept; the
 * draw is not made again, and an agency that runs again gets the same
 * winners with nothing stored twice.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sampleAgency } from "../scripts/sample_bets.ts";
import { agency, Central, field, tempDir } from "./harness.ts";

Deno.test("after kill -9 and a restart, the draw and the bets are kept and not redone", async () => {
  await using dir = await tempDir("tp0-recovery-");
  const storage = join(dir.path, "storage");
  const env = { AGENCIES: "2" };
  const files = [1, 2].map((k) => join(dir.path, `agency-${k}.csv`));
  for (const [i, path] of files.entries()) {
    await Deno.writeTextFile(
      path,
      sampleAgency(i + 1, 200, i + 2).lines.join("\n") + "\n",
    );
  }
  const rowsBefore = async () =>
    await Deno.readTextFile(join(storage, "bets.csv"));

  await using first = new Central(storage, env);
  const port = await first.ready();
  const runs = files.map((path, i) =>
    agency(i + 1, port, { CLI_DATA_PATH: path })
  );
  for (const program of runs) {
    assert.equal(await program.exit(), 0);
    await program[Symbol.asyncDispose]();
  }
  await first.stdout.waitFor(/action: sorteo \| result: success/);
  const stored = await rowsBefore();
  for (const line of first.stdout.matching(/action: worker_started/)) {
    Deno.kill(Number(field(line, "pid")), "SIGKILL");
  }
  first.kill("SIGKILL");
  await first.exit();

  await using second = new Central(storage, env, ["--port", String(port)]);
  await second.ready();
  const recovered = await second.stdout.waitFor(/action: storage_recovered/);
  assert.equal(field(recovered, "finished_agencies"), "2");
  assert.equal(field(recovered, "draw"), "done");
  await using again = agency(1, port, { CLI_DATA_PATH: files[0]! });
  assert.equal(await again.exit(), 0);
  const winners = await again.stdout.waitFor(
    /action: consulta_ganadores \| result: success/,
  );
  assert.equal(field(winners, "cant_ganadores"), "2");
  assert.equal(await rowsBefore(), stored, "nothing stored twice");
  assert.deepEqual(
    second.stdout.matching(/action: sorteo/),
    [],
    "no second draw",
  );
  assert.deepEqual(second.stdout.matching(/result: fail/), []);
  second.kill("SIGTERM");
  assert.equal(await second.exit(), 0);
});

Deno.test("a storage directory with bets but no ledger is refused, not emptied", async () => {
  await using dir = await tempDir("tp0-recovery-");
  const storage = join(dir.path, "storage");
  await Deno.mkdir(storage);
  const rows = "1,Ana,Díaz,1000,1990-01-01,7574\n";
  await Deno.writeTextFile(join(storage, "bets.csv"), rows);
  await using central = new Central(storage, { AGENCIES: "1" });
  assert.equal(await central.exit(), 1);
  const failed = await central.stdout.waitFor(
    /action: central \| result: fail/,
  );
  assert.match(failed, /bets\.csv holds 33 bytes but there is no ledger\.bin/);
  assert.equal(await Deno.readTextFile(join(storage, "bets.csv")), rows);
});
