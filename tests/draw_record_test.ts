/**
 * The draw's record outlives the loss of the KV file, and its `sorteo`
 * line is written exactly once in the system's life: never again after a
 * restart, and at the restart when the central died between committing
 * the draw and writing the line; a winners file the ledger has no draw for
 * stops the start.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  decodeLedgerRecords,
  encodeDrawRecord,
} from "../server/store/ledger_record.ts";
import {
  agency,
  Central,
  field,
  tempDir,
  writeSampleFiles,
} from "./harness.ts";

/** Bytes of the ledger record saying the draw's line was written. */
const DRAW_RECORD = 85;

/** Two agencies load and get their winners; the central stops cleanly. */
async function drawMade(dir: string, storage: string): Promise<string[]> {
  await writeSampleFiles(dir, 2, 150, 3);
  await using central = new Central(storage, { AGENCIES: "2" });
  const port = await central.ready();
  const runs = [1, 2].map((k) =>
    agency(k, port, { CLI_DATA_PATH: join(dir, `agency-${k}.csv`) })
  );
  const winners: string[] = [];
  for (const run of runs) {
    assert.equal(await run.exit(), 0);
    const line = await run.stdout.waitFor(/action: consulta_ganadores/);
    winners.push(field(line, "cant_ganadores"));
    await run[Symbol.asyncDispose]();
  }
  assert.equal(central.stdout.matching(/action: sorteo \|/).length, 1);
  central.kill("SIGTERM");
  assert.equal(await central.exit(), 0);
  return winners;
}

/** Deletes the KV file and its journals, as a lost `central.kv`. */
async function removeKv(storage: string): Promise<void> {
  for await (const entry of Deno.readDir(storage)) {
    if (entry.name.startsWith("central.kv")) {
      await Deno.remove(join(storage, entry.name));
    }
  }
}

/** Starts the central again; returns it once ready, with its recovery line. */
async function restarted(storage: string) {
  const central = new Central(storage, { AGENCIES: "2" });
  const port = await central.ready();
  const recovered = await central.stdout.waitFor(/action: storage_recovered/);
  return { central, port, recovered };
}

/** Agency 1 runs again on its file: its winners' count. */
async function againWinners(dir: string, port: number): Promise<string> {
  await using run = agency(1, port, {
    CLI_DATA_PATH: join(dir, "agency-1.csv"),
  });
  assert.equal(await run.exit(), 0);
  const line = await run.stdout.waitFor(/action: consulta_ganadores/);
  return field(line, "cant_ganadores");
}

Deno.test("with central.kv deleted after the draw, the restart keeps the draw and logs no second sorteo", async () => {
  await using dir = await tempDir("tp0-draw-record-");
  const storage = join(dir.path, "storage");
  const winners = await drawMade(dir.path, storage);
  await removeKv(storage);
  const { central, port, recovered } = await restarted(storage);
  await using _central = central;
  assert.equal(field(recovered, "draw"), "done");
  assert.equal(field(recovered, "finished_agencies"), "2");
  assert.equal(await againWinners(dir.path, port), winners[0]);
  assert.deepEqual(central.stdout.matching(/action: sorteo/), []);
  assert.deepEqual(central.stdout.matching(/result: fail/), []);
  central.kill("SIGTERM");
  assert.equal(await central.exit(), 0);
});

Deno.test("a draw committed whose line was never written is logged at the restart, once", async () => {
  await using dir = await tempDir("tp0-draw-record-");
  const storage = join(dir.path, "storage");
  const winners = await drawMade(dir.path, storage);
  // The state a kill -9 leaves between the draw's commit and its line: the
  // ledger's last record (the line written) is not there.
  const ledger = join(storage, "ledger.bin");
  const size = (await Deno.stat(ledger)).size;
  await Deno.truncate(ledger, size - DRAW_RECORD);
  {
    const { central, port } = await restarted(storage);
    await using _central = central;
    const sorteo = await central.stdout.waitFor(/action: sorteo \|/);
    assert.match(sorteo, /result: success/);
    const lines = await central.stdout.waitFor(
      /action: ganadores_por_agencia/,
    );
    assert.equal(field(lines, "agencia_1"), winners[0]);
    assert.equal(field(lines, "agencia_2"), winners[1]);
    assert.equal(await againWinners(dir.path, port), winners[0]);
    assert.equal(central.stdout.matching(/action: sorteo \|/).length, 1);
    central.kill("SIGTERM");
    assert.equal(await central.exit(), 0);
  }
  assert.equal((await Deno.stat(ledger)).size, size, "marked as written");
  const { central, port } = await restarted(storage);
  await using _central = central;
  assert.equal(await againWinners(dir.path, port), winners[0]);
  assert.deepEqual(central.stdout.matching(/action: sorteo/), []);
  central.kill("SIGTERM");
  assert.equal(await central.exit(), 0);
});

Deno.test("a winners file with no draw in the ledger (cut back before it) stops the start, naming the file", async () => {
  await using dir = await tempDir("tp0-draw-record-");
  const storage = join(dir.path, "storage");
  await drawMade(dir.path, storage);
  // The ledger cut at the record boundary before both draw records, and
  // the KV file (which would name the draw) deleted: a second draw would
  // follow, and a second sorteo line.
  const ledger = join(storage, "ledger.bin");
  const size = (await Deno.stat(ledger)).size;
  await Deno.truncate(ledger, size - 2 * DRAW_RECORD);
  await removeKv(storage);
  await using central = new Central(storage, { AGENCIES: "2" });
  assert.equal(await central.exit(), 1);
  const line = await central.stdout.waitFor(/action: central \| result: fail/);
  assert.match(line, /winners\.json is there but ledger\.bin holds no draw/);
  assert.deepEqual(
    central.stdout.matching(/action: (sorteo|central_ready)/),
    [],
  );
});

Deno.test("a winners file and draw record changed to match each other stop the start", async () => {
  await using dir = await tempDir("tp0-draw-record-");
  const storage = join(dir.path, "storage");
  await drawMade(dir.path, storage);
  // A writer without AUTH_SECRET gives agency 1 one more winner: the
  // winners file, both draw records (digest and CRC) and no KV file agree.
  const path = join(storage, "winners.json");
  const winners = JSON.parse(await Deno.readTextFile(path)) as Record<
    string,
    string[]
  >;
  winners["1"]!.push("99999999");
  const forged = new TextEncoder().encode(JSON.stringify(winners));
  await Deno.writeFile(path, forged);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", forged),
  );
  const ledger = join(storage, "ledger.bin");
  const bytes = await Deno.readFile(ledger);
  const size = bytes.length;
  // Its records re-encoded with the new digest; their MACs, which it cannot
  // make, kept.
  const records = [2, 1].map((k) => {
    const at = size - k * DRAW_RECORD;
    return decodeLedgerRecords(bytes.subarray(at, at + DRAW_RECORD)).draws[0]!;
  });
  await Deno.truncate(ledger, size - 2 * DRAW_RECORD);
  for (const record of records) {
    await Deno.writeFile(
      ledger,
      encodeDrawRecord({ ...record, digest }),
      { append: true },
    );
  }
  assert.equal((await Deno.stat(ledger)).size, size);
  await removeKv(storage);
  await using central = new Central(storage, { AGENCIES: "2" });
  assert.equal(await central.exit(), 1);
  const line = await central.stdout.waitFor(/action: central \| result: fail/);
  assert.match(line, /its draw record does not hold under AUTH_SECRET/);
  assert.deepEqual(
    central.stdout.matching(/action: (sorteo|central_ready)/),
    [],
  );
});
