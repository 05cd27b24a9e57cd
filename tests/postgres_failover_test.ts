/**
 * Losing a host loses nothing: a PostgreSQL primary with a synchronous
 * standby, two central supervisors on their own ports sharing it, and ten
 * agencies of 50,000 bets each, every one listing both centrals. Once a
 * central has acknowledged some batches its supervisor and workers are
 * killed (-9); once the database holds some rows the primary is killed
 * (-9) and the standby promoted. Both faults are triggered by observed
 * progress. Then every agency exits 0 with its own winners, every bet is
 * stored exactly once (so no acknowledged batch was lost: an agency never
 * sends one again), and one draw exists, logged once.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PgServer } from "../scripts/pg_cluster.ts";
import { PgClient } from "../server/postgres/pg_client.ts";
import {
  agency,
  Central,
  field,
  tempDir,
  until,
  writeSampleFiles,
} from "./harness.ts";

const AGENCIES = 10;
const BETS = 50_000;

/** Kills a central's supervisor and every worker it started, at once. */
function killCentral(central: Central): void {
  for (const pid of [central.child.pid, ...central.workerPids()]) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}

Deno.test("failover: kill -9 a central and the database primary mid-load; nothing acknowledged is lost, every bet once, one draw", async () => {
  await using dir = await tempDir("tp0-pg-failover-");
  await using primary = await PgServer.primary("standby1");
  await using standby = await PgServer.standby(primary, "standby1");
  const url =
    `postgres://postgres@127.0.0.1:${primary.port},127.0.0.1:${standby.port}/postgres`;
  const files = await writeSampleFiles(dir.path, AGENCIES, BETS, 5);
  const args = ["--agencies", String(AGENCIES)];
  const env = { DATABASE_URL: url };
  await using a = new Central(join(dir.path, "a"), env, args);
  await using b = new Central(join(dir.path, "b"), env, args);
  const [portA, portB] = [await a.ready(), await b.ready()];
  const programs = Array.from({ length: AGENCIES }, (_, i) => {
    const [first, second] = i % 2 === 0 ? [portA, portB] : [portB, portA];
    return agency(i + 1, first, {
      CLI_DATA_PATH: join(dir.path, `agency-${i + 1}.csv`),
      CLI_SERVER_ADDRESS: `127.0.0.1:${first},127.0.0.1:${second}`,
    });
  });
  try {
    // Fault 1: central A, once it has acknowledged some batches.
    await a.stdout.waitFor(/action: apuesta_recibida \| result: success/);
    await until(
      () => a.stdout.matching(/action: apuesta_recibida/).length >= 40,
      "central a has acknowledged 40 batches",
      60_000,
    );
    killCentral(a);

    // Fault 2: the primary, once the database holds some rows.
    await using watcher = new PgClient(primary.url, 1);
    let held = 0;
    const deadline = Date.now() + 60_000;
    while (held < (AGENCIES * BETS) / 4) {
      assert.ok(Date.now() < deadline, `the database holds only ${held} rows`);
      held = await watcher.run(async (sql) =>
        (await sql<{ n: number }[]>`select count(*)::int as n from bets`)[0]!.n
      );
    }
    await primary.kill();
    await standby.promote();
    assert.ok(held < AGENCIES * BETS, "the primary died mid-load");

    for (const [i, program] of programs.entries()) {
      assert.equal(await program.exit(180_000), 0, `agency ${i + 1} exit code`);
      const line = await program.stdout.waitFor(
        /action: consulta_ganadores \| result: success/,
      );
      assert.equal(
        Number(field(line, "cant_ganadores")),
        files.winners[i],
        `agency ${i + 1} winners`,
      );
    }
    const sorteo = /action: sorteo \| result: success/;
    assert.equal(
      a.stdout.matching(sorteo).length + b.stdout.matching(sorteo).length,
      1,
    );
    await using client = new PgClient(standby.url, 1);
    const [counts] = await client.run((sql) =>
      sql<{ rows: number; distinct: number; draws: number }[]>`select
        count(*)::int as rows,
        count(distinct row)::int as distinct,
        (select count(*)::int from draw) as draws from bets`
    );
    assert.deepEqual(counts, {
      rows: AGENCIES * BETS,
      distinct: AGENCIES * BETS,
      draws: 1,
    });
  } finally {
    for (const program of programs) await program[Symbol.asyncDispose]();
  }
});
