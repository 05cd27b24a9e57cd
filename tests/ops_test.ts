/**
 * The operator's view of a real central loaded by real agencies: `central
 * health` before, during and after a run, `GET /metrics` over HTTP during
 * the load and after the draw (its figures against bets.csv and the
 * ledger), and `central status` mid-load and after the draw. Mid-load is
 * made certain, not raced: two agencies finish, and the draw waits for the
 * third, which starts only after the checks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Program, ROOT } from "../scripts/processes.ts";
import { freeMetricsPort, parseSamples } from "../scripts/bench_metrics.ts";
import {
  agency,
  Central,
  harnessKey,
  loadingAgencies,
  tempDir,
  until,
  writeSampleFiles,
} from "./harness.ts";
import { frameHeader, helloOf, RawPeer } from "./raw_peer.ts";

const AGENCIES = 3;
const BETS = 1_500;

/** Runs `central <args>` (health, status) to its exit: code and output. */
async function tool(
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const program = new Program(
    "tool",
    "server/main.ts",
    ["--config", join(ROOT, "server", "config.ini"), ...args],
    {},
  );
  const code = await program.exit(30_000);
  return {
    code,
    out: program.stdout.all.join("\n"),
    err: program.stderr.all.join("\n"),
  };
}

function health(port: number) {
  return tool(["--port", String(port), "--listen-ip", "127.0.0.1", "health"]);
}

interface Status {
  agencies: {
    agency: number;
    stored: number;
    total: number | null;
    finished: boolean;
    winners: number | null;
  }[];
  stored: number;
  finished: number;
  draw: { total: number; digest: string; at: string | null } | null;
}

async function status(storageDir: string): Promise<Status> {
  const result = await tool([
    "--storage-dir",
    storageDir,
    "--agencies",
    String(AGENCIES),
    "status",
    "--json",
  ]);
  assert.equal(result.code, 0, result.err);
  return JSON.parse(result.out) as Status;
}

/** One scrape over HTTP: the samples by name, labels included. */
async function scrape(port: number): Promise<Map<string, number>> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  return parseSamples(await response.text());
}

Deno.test("health: non-zero before a central starts, 0 while it serves, non-zero after it stops", async () => {
  await using dir = await tempDir("ops-health-");
  const port = freeMetricsPort();
  const before = await health(port);
  assert.notEqual(before.code, 0);
  assert.equal(before.err.trim().split("\n").length, 1, before.err);
  assert.match(before.err, /^Cannot confirm the central serves agencies/);

  // Metrics off (the default): the health check does not need them.
  await using central = new Central(join(dir.path, "storage"), {}, [
    "--port",
    String(port),
  ]);
  await central.ready();
  const serving = await health(port);
  assert.equal(serving.code, 0, serving.err);
  // The probe is no failed authentication: no fail line for it.
  assert.deepEqual(central.stdout.matching(/result: fail/), []);

  central.kill("SIGTERM");
  assert.equal(await central.exit(), 0);
  const after = await health(port);
  assert.notEqual(after.code, 0);
  assert.equal(after.err.trim().split("\n").length, 1, after.err);
});

Deno.test("metrics and status during a load and after the draw agree with bets.csv", async () => {
  await using dir = await tempDir("ops-metrics-");
  const sample = await writeSampleFiles(dir.path, AGENCIES, BETS, 7);
  const storage = join(dir.path, "storage");
  const metricsPort = freeMetricsPort();
  await using central = new Central(storage, {}, [
    "--agencies",
    String(AGENCIES),
    "--metrics-port",
    String(metricsPort),
  ]);
  const port = await central.ready();

  // Agencies 1 and 2 load and finish; the draw waits for agency 3.
  const agencies = loadingAgencies(port, dir.path, AGENCIES - 1);
  try {
    // A scrape while batches are in flight: a worker counts a batch after
    // its commit, and the ledger is read after the workers answered, so
    // the count never runs ahead of the ledger.
    await central.stdout.waitFor(/action: apuesta_recibida \| result: success/);
    const early = await scrape(metricsPort);
    assert.ok(
      early.get("central_bets_stored_total")! <=
        early.get("central_ledger_bets")!,
    );
    await until(
      () => central.stdout.matching(/action: agencia_finalizada/).length === 2,
      "agencies 1 and 2 finished",
      60_000,
    );
    const during = await scrape(metricsPort);
    assert.equal(during.get("central_bets_stored_total"), 2 * BETS);
    assert.equal(during.get("central_ledger_bets"), 2 * BETS);
    assert.equal(during.get("central_agencies_finished"), 2);
    assert.equal(during.get("central_draw_made"), 0);
    assert.equal(during.get("central_workers_reporting"), 2);
    const healthy = await health(port);
    assert.equal(healthy.code, 0, healthy.err);
    const mid = await status(storage);
    assert.equal(mid.draw, null);
    assert.deepEqual(
      mid.agencies.map((a) => [a.agency, a.stored, a.total, a.finished]),
      [[1, BETS, BETS, true], [2, BETS, BETS, true], [3, 0, null, false]],
    );
    agencies.push(
      agency(AGENCIES, port, {
        CLI_DATA_PATH: join(dir.path, `agency-${AGENCIES}.csv`),
        CLI_BATCH_MAXAMOUNT: "10",
      }),
    );
    for (const program of agencies) assert.equal(await program.exit(), 0);
  } finally {
    for (const program of agencies) await program[Symbol.asyncDispose]();
  }

  const bets = (await Deno.readTextFile(join(storage, "bets.csv")))
    .split("\n").filter((line) => line !== "").length;
  assert.equal(bets, sample.rows.length);
  const after = await scrape(metricsPort);
  assert.equal(after.get("central_bets_stored_total"), bets);
  assert.equal(after.get("central_ledger_bets"), bets);
  assert.equal(after.get("central_bets_duplicate_total"), 0);
  // Batches of 10: every one acknowledged, and timed, once.
  const batches = after.get("central_batches_total")!;
  assert.equal(batches, AGENCIES * BETS / 10);
  assert.equal(after.get("central_batch_commit_seconds_count"), batches);
  assert.equal(
    after.get('central_batch_commit_seconds_bucket{le="+Inf"}'),
    batches,
  );
  assert.equal(after.get("central_agencies_finished"), AGENCIES);
  assert.equal(after.get("central_finish_notifications_total"), AGENCIES);
  assert.equal(after.get("central_draw_made"), 1);
  const drawnAt = after.get("central_draw_timestamp_seconds")!;
  assert.ok(Math.abs(drawnAt - Date.now() / 1000) < 600);
  assert.equal(after.get("central_auth_failures_total"), 0);
  assert.equal(after.get('central_worker_open_connections{worker="1"}'), 0);
  assert.equal(
    (after.get('central_worker_bets_stored_total{worker="1"}') ?? 0) +
      (after.get('central_worker_bets_stored_total{worker="2"}') ?? 0),
    bets,
  );

  const done = await status(storage);
  assert.equal(done.stored, bets);
  assert.equal(done.finished, AGENCIES);
  assert.notEqual(done.draw, null);
  assert.match(done.draw!.digest, /^[0-9a-f]{64}$/);
  assert.deepEqual(
    done.agencies.map((a) => [a.agency, a.stored, a.total, a.finished]),
    [1, 2, 3].map((id) => [id, BETS, BETS, true]),
  );
  assert.deepEqual(done.agencies.map((a) => a.winners), sample.winners);
  assert.equal(done.draw!.total, sample.winners.reduce((a, b) => a + b, 0));

  // A wrong key, another stream for agency 2, an unknown frame: each counted.
  using stranger = await RawPeer.connect(port);
  await assert.rejects(stranger.open(helloOf(1, BETS), harnessKey(2)));
  using other = await RawPeer.connect(port);
  await assert.rejects(other.open(helloOf(2, 7, 9), harnessKey(2)));
  using garbage = await RawPeer.connect(port);
  await garbage.send(frameHeader(0x1f, 0));
  assert.equal((await garbage.next())?.kind, "error");
  const refused = await scrape(metricsPort);
  assert.equal(refused.get('central_refusals_total{code="malformedFrame"}'), 1);
  assert.equal(refused.get("central_auth_failures_total"), 1);
  assert.equal(
    refused.get('central_refusals_total{code="unauthenticated"}'),
    1,
  );
  assert.equal(refused.get('central_refusals_total{code="conflict"}'), 1);

  const table = await tool(["--storage-dir", storage, "status"]);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /^agency +stored +of +finished +winners$/m);
  assert.match(table.out, /^draw: made at .*; digest [0-9a-f]{64}$/m);
});

Deno.test("status: a directory no central has used is one clear line and exit 1", async () => {
  await using dir = await tempDir("ops-status-");
  const result = await tool(["--storage-dir", dir.path, "status"]);
  assert.equal(result.code, 1);
  assert.match(result.err, /has no ledger\.bin/);
  assert.deepEqual([...Deno.readDirSync(dir.path)], []);
});

Deno.test("status: a damaged ledger is one line and exit 1, and stays as it was", async () => {
  await using dir = await tempDir("ops-damaged-");
  (await Deno.openKv(join(dir.path, "central.kv"))).close();
  const junk = new TextEncoder().encode("not a ledger record, and more bytes");
  await Deno.writeFile(join(dir.path, "ledger.bin"), junk);
  const result = await tool(["--storage-dir", dir.path, "status"]);
  assert.equal(result.code, 1);
  assert.match(result.err.trim(), /^Cannot read the ledger: [^\n]*$/);
  assert.deepEqual(await Deno.readFile(join(dir.path, "ledger.bin")), junk);
});
