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
import { agency, Central, field, type Lines, tempDir } from "./harness.ts";

const ENV = { AGENCIES: "2" };
const WINNERS = /action: consulta_ganadores \| result: success/;

/** Runs agency `id` on `file` to the end; returns how many winners it got. */
async function runAgency(id: number, port: number, file: string) {
  await using run = agency(id, port, { CLI_DATA_PATH: file });
  assert.equal(await run.exit(), 0);
  return field(await run.stdout.waitFor(WINNERS), "cant_ganadores");
}

/**
 * Runs two agencies to the draw on a fresh central over `storage` and stops
 * it; returns their data files and how many winners agency 1 got.
 */
async function drawOnce(
  dir: string,
  storage: string,
): Promise<{ files: string[]; winners: string }> {
  const files = [1, 2].map((k) => join(dir, `agency-${k}.csv`));
  for (const [i, path] of files.entries()) {
    const { lines } = sampleAgency(i + 1, 200, i + 2);
    await Deno.writeTextFile(path, lines.join("\n") + "\n");
  }
  await using central = new Central(storage, ENV);
  const port = await central.ready();
  const [winners] = await Promise.all(
    files.map((file, i) => runAgency(i + 1, port, file)),
  );
  await central.stdout.waitFor(/action: sorteo \| result: success/);
  central.kill("SIGTERM");
  assert.equal(await central.exit(), 0);
  return { files, winners: winners! };
}

/**
 * Restarts the central over `storage` and runs agency 1 again; checks that
 * nothing failed and the central stops cleanly; returns the central's lines
 * and how many winners the agency got.
 */
async function restartAndAsk(
  storage: string,
  file: string,
): Promise<{ lines: Lines; winners: string }> {
  await using central = new Central(storage, ENV);
  const winners = await runAgency(1, await central.ready(), file);
  central.kill("SIGTERM");
  assert.equal(await central.exit(), 0);
  assert.deepEqual(central.stdout.matching(/result: fail/), []);
  return { lines: central.stdout, winners };
}

Deno.test("central.kv lost after the draw: the counter is rebuilt from the ledger and the same winners are served", async () => {
  await using dir = await tempDir("tp0-durable-");
  const storage = join(dir.path, "storage");
  const { files, winners } = await drawOnce(dir.path, storage);
  const drawn = await Deno.readFile(join(storage, "winners.json"));
  await Deno.remove(join(storage, "central.kv"));

  const again = await restartAndAsk(storage, files[0]!);
  assert.equal(again.winners, winners);
  const recovered = again.lines.matching(/action: storage_recovered/);
  assert.equal(field(recovered[0]!, "finished_agencies"), "2");
  const rebuilt = again.lines.matching(/action: finished_counter_rebuilt/);
  assert.equal(rebuilt.length, 1);
  assert.deepEqual(await Deno.readFile(join(storage, "winners.json")), drawn);
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

  const again = await restartAndAsk(storage, files[0]!);
  assert.equal(again.winners, winners);
  const rebuilt = again.lines.matching(/action: winners_file_rebuilt/);
  assert.equal(rebuilt.length, 1);
  assert.equal(await Deno.readTextFile(path), drawn);
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
