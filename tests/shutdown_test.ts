/**
 * Graceful shutdown (exercise 4): SIGTERM to the central mid-ingest and to
 * an agency mid-stream. Each exits 0, logs its resources closing, and
 * leaves no process behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sampleAgency } from "../scripts/sample_bets.ts";
import { agency, alive, Central, tempDir, until } from "./harness.ts";

async function bigFile(dir: string, bets: number): Promise<string> {
  const path = join(dir, "big.csv");
  await Deno.writeTextFile(
    path,
    sampleAgency(1, bets, 3).lines.join("\n") + "\n",
  );
  return path;
}

Deno.test("SIGTERM to the central mid-ingest: workers stop, resources close, exit 0, nothing left", async () => {
  await using dir = await tempDir("tp0-stop-central-");
  const data = await bigFile(dir.path, 50_000);
  await using central = new Central(join(dir.path, "storage"));
  const port = await central.ready();
  await using client = agency(1, port, {
    CLI_DATA_PATH: data,
    CLI_BATCH_MAXAMOUNT: "5",
  });
  await central.stdout.waitFor(/action: apuesta_recibida \| result: success/);
  const workers = central.workerPids();
  assert.equal(workers.length, 2);
  central.kill("SIGTERM");
  assert.equal(await central.exit(20_000), 0);
  for (
    const action of [
      "listener_closed",
      "bets_file_closed",
      "kv_closed",
      "lockfile_closed",
      "worker_stopped",
    ]
  ) {
    assert.equal(
      central.stdout.matching(
        new RegExp(`action: ${action} \\| result: success`),
      ).length,
      2,
      action,
    );
  }
  assert.equal(
    central.stdout.matching(
      /action: worker_closed \| result: success .*code: 0$/,
    ).length,
    2,
  );
  await central.stdout.waitFor(/action: shutdown \| result: success/);
  await until(
    () => workers.every((pid) => !alive(pid)),
    "every worker is gone",
  );

  // The agency cannot reach the central any more; SIGTERM ends it cleanly too.
  client.kill("SIGTERM");
  assert.equal(await client.exit(20_000), 0);
});

Deno.test("SIGTERM to an agency mid-stream: it closes its connection and file and exits 0", async () => {
  await using dir = await tempDir("tp0-stop-agency-");
  const data = await bigFile(dir.path, 50_000);
  await using central = new Central(join(dir.path, "storage"));
  const port = await central.ready();
  await using client = agency(1, port, {
    CLI_DATA_PATH: data,
    CLI_BATCH_MAXAMOUNT: "5",
  });
  await central.stdout.waitFor(/action: apuesta_recibida \| result: success/);
  client.kill("SIGTERM");
  assert.equal(await client.exit(20_000), 0);
  for (const action of ["connection_closed", "bets_file_closed", "shutdown"]) {
    await client.stdout.waitFor(
      new RegExp(`action: ${action} \\| result: success`),
      1_000,
    );
  }
  assert.deepEqual(client.stdout.matching(/result: fail/), []);
  // The central goes on serving: a new agency run resumes where the first stopped.
  await using again = agency(1, port, {
    CLI_DATA_PATH: data,
    CLI_BATCH_MAXAMOUNT: "500",
  });
  await again.stdout.waitFor(
    /action: envio_apuestas \| result: success \| client_id: 1 \| apuestas: 50000/,
    60_000,
  );
  // Exactly once: what the first run stored was skipped, nothing is missing.
  const rows = (await Deno.readTextFile(join(central.storageDir, "bets.csv")))
    .split("\n").filter((l) => l !== "");
  assert.equal(rows.length, 50_000);
  assert.equal(new Set(rows).size, 50_000);
  await central.stdout.waitFor(
    /action: apuestas_duplicadas \| result: success/,
  );
  again.kill("SIGTERM");
  assert.equal(await again.exit(20_000), 0);
  central.kill("SIGTERM");
  assert.equal(await central.exit(20_000), 0);
});
