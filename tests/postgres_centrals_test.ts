/**
 * Two centrals, each a supervisor with its workers, on one PostgreSQL
 * database (a throwaway cluster): agencies spread over both, every bet
 * stored once, one draw, `sorteo` logged once in the whole system, each
 * agency its own winners.
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
  Program,
  ROOT,
  tempDir,
  writeSampleFiles,
} from "./harness.ts";

/** A port nothing listens on (bound once and released). */
function deadPort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return (listener.addr as Deno.NetAddr).port;
}

Deno.test("two centrals on PostgreSQL, an agency listing a dead one first: every bet once, one draw, sorteo logged once, each agency its own winners", async () => {
  await using dir = await tempDir("tp0-pg-centrals-");
  await using db = await PgServer.primary();
  const env = { DATABASE_URL: db.url };
  const agencies = 4;
  const files = await writeSampleFiles(dir.path, agencies, 300, 21);
  const args = ["--agencies", String(agencies)];
  await using a = new Central(join(dir.path, "a"), env, args);
  await using b = new Central(join(dir.path, "b"), env, args);
  const ports = [await a.ready(), await b.ready()];
  // Agency 1 lists a central that is down first: it moves on to the next.
  const dead = deadPort();
  const programs = Array.from(
    { length: agencies },
    (_, i) =>
      agency(i + 1, ports[i % 2]!, {
        CLI_DATA_PATH: join(dir.path, `agency-${i + 1}.csv`),
        CLI_BATCH_MAXAMOUNT: "25",
        ...(i === 0
          ? { CLI_SERVER_ADDRESS: `127.0.0.1:${dead},127.0.0.1:${ports[0]}` }
          : {}),
      }),
  );
  for (const [i, program] of programs.entries()) {
    await using _program = program;
    assert.equal(await program.exit(), 0, `agency ${i + 1} exit code`);
    const line = await program.stdout.waitFor(
      /action: consulta_ganadores \| result: success/,
    );
    assert.equal(Number(field(line, "cant_ganadores")), files.winners[i]);
  }
  assert.ok(
    programs[0]!.stdout.matching(/action: reconnect .*next: /).length > 0,
  );
  const sorteo = /action: sorteo \| result: success/;
  assert.equal(
    a.stdout.matching(sorteo).length + b.stdout.matching(sorteo).length,
    1,
  );
  for (const central of [a, b]) {
    assert.equal(central.stdout.matching(/storage: postgres/).length, 1);
    assert.deepEqual(central.stdout.matching(/postgres:\/\//), []);
  }
  // `central status` reads the database: every agency, stored and finished,
  // its winners, and the draw; the URL is never printed.
  await using status = new Program("status", "server/main.ts", [
    "--config",
    join(ROOT, "server", "config.ini"),
    "--agencies",
    String(agencies),
    "status",
    "--json",
  ], env);
  assert.equal(await status.exit(), 0, status.stderr.all.join("\n"));
  const shown = JSON.parse(status.stdout.all.join("\n")) as {
    storage: string;
    agencies: {
      agency: number;
      stored: number;
      finished: boolean;
      winners: number;
    }[];
    draw: { total: number } | null;
  };
  assert.equal(shown.storage, "PostgreSQL (DATABASE_URL)");
  assert.deepEqual(
    shown.agencies.map((a) => [a.agency, a.finished, a.winners]),
    files.winners.map((w, i) => [i + 1, true, w]),
  );
  assert.equal(
    shown.agencies.reduce((sum, a) => sum + a.stored, 0),
    files.rows.length,
  );
  assert.equal(shown.draw?.total, files.winners.reduce((s, w) => s + w, 0));
  assert.ok(!status.stdout.all.join("\n").includes(db.url));
  await using client = new PgClient(db.url, 1);
  const rows = await client.run((sql) =>
    sql<{ agency: number; row: string }[]>`select agency, row from bets`
  );
  assert.deepEqual(rows.map((r) => r.row).sort(), files.rows.sort());
});
