/**
 * Each durable fact has one owner, and the copies kept beside it are checked
 * against it at start-up: a central whose KV file was lost after the draw
 * rebuilds its counter from the ledger and serves the same winners; an
 * edited winners file is not served as written; a KV file that counts an
 * agency the ledger does not is refused with a clear line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sampleAgency } from "../scripts/sample_bets.ts";
import { agency, Central, field, tempDir } from "./harness.ts";

const ENV = { AGENCIES: "2" };

/**
 * Runs two agencies to the draw on a fresh central over `storage`, stops
 * it, and returns their data files and how many winners agency 1 got.
 */
async function drawOnce(
  dir: string,
  storage: string,
): Promise<{ files: string[]; winners: string }> {
  const files = [1, 2].map((k) => join(dir, `agency-${k}.csv`));
  for (const [i, path] of files.entries()) {
    await Deno.writeTextFile(
      path,
      sampleAgency(i + 1, 200, i + 2).lines.join("\n") + "\n",
    );
  }
  await using central = new Central(storage, ENV);
  const port = await central.ready();
  const runs = files.map((path, i) =>
    agency(i + 1, port, { CLI_DATA_PATH: path })
  );
  for (const run of runs) {
    assert.equal(await run.exit(), 0);
    await run[Symbol.asyncDispose]();
  }
  const winners = field(
    await runs[0]!.stdout.waitFor(
      /action: consulta_ganadores \| result: success/,
    ),
    "cant_ganadores",
  );
  await central.stdout.waitFor(/action: sorteo \| result: success/);
  central.kill("SIGTERM");
  assert.equal(await central.exit(), 0);
  return { files, winners };
}

/** Agency 1 runs again against a central over `storage`; returns its winners count. */
async function askAgain(
  central: Central,
  file: string,
): Promise<string> {
  const port = await central.ready();
  await using again = agency(1, port, { CLI_DATA_PATH: file });
  assert.equal(await again.exit(), 0);
  return field(
    await again.stdout.waitFor(/action: consulta_ganadores \| result: success/),
    "cant_ganadores",
  );
}

Deno.test("central.kv lost after the draw: the counter is rebuilt from the ledger and the same winners are served", async () => {
  await using dir = await tempDir("tp0-durable-");
  const storage = join(dir.path, "storage");
  const { files, winners } = await drawOnce(dir.path, storage);
  const drawn = await Deno.readFile(join(storage, "winners.json"));
  await Deno.remove(join(storage, "central.kv"));

  await using central = new Central(storage, ENV);
  assert.equal(await askAgain(central, files[0]!), winners);
  const recovered = central.stdout.matching(/action: storage_recovered/);
  assert.equal(field(recovered[0]!, "finished_agencies"), "2");
  assert.equal(
    central.stdout.matching(/action: finished_counter_rebuilt/).length,
    1,
  );
  assert.deepEqual(await Deno.readFile(join(storage, "winners.json")), drawn);
  assert.deepEqual(central.stdout.matching(/result: fail/), []);
  central.kill("SIGTERM");
  assert.equal(await central.exit(), 0);
});

Deno.test("an edited winners.json is not served as written: it is made again from bets.csv", async () => {
  await using dir = await tempDir("tp0-durable-");
  const storage = join(dir.path, "storage");
  const { files, winners } = await drawOnce(dir.path, storage);
  const path = join(storage, "winners.json");
  const drawn = await Deno.readTextFile(path);
  const edited = JSON.parse(drawn) as Record<string, string[]>;
  edited["1"] = [...edited["1"]!, "99999999"];
  await Deno.writeTextFile(path, JSON.stringify(edited));

  await using central = new Central(storage, ENV);
  assert.equal(await askAgain(central, files[0]!), winners);
  assert.equal(
    central.stdout.matching(/action: winners_file_rebuilt/).length,
    1,
  );
  assert.equal(await Deno.readTextFile(path), drawn);
  assert.deepEqual(central.stdout.matching(/result: fail/), []);
  central.kill("SIGTERM");
  assert.equal(await central.exit(), 0);
});

Deno.test("a central.kv that counts agencies the ledger does not is refused with a clear line", async () => {
  await using dir = await tempDir("tp0-durable-");
  const storage = join(dir.path, "storage");
  await drawOnce(dir.path, storage);
  await Deno.remove(join(storage, "ledger.bin"));
  await Deno.writeTextFile(join(storage, "bets.csv"), "");

  await using central = new Central(storage, ENV);
  assert.equal(await central.exit(), 1);
  const failed = await central.stdout.waitFor(
    /action: central \| result: fail/,
  );
  assert.match(
    failed,
    /central\.kv counts agency 1 as finished but ledger\.bin does not/,
  );
});
