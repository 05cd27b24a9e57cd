/**
 * The PostgreSQL side of `deno task bench`: scenario `pg-AxB` runs one
 * central on a throwaway primary (`synchronous_commit` on: every
 * acknowledgement after a durable commit), `pg2-AxB` two centrals on a
 * primary with a synchronous standby (every acknowledgement after the
 * standby has the commit too), the agencies spread over both centrals.
 *
 * @module
 */
import { PgServer } from "./pg_cluster.ts";
import { PgClient } from "../server/postgres/pg_client.ts";

/** A scenario's database: its URL, how many centrals use it, and the stored count. */
export interface BenchDatabase extends AsyncDisposable {
  /** For `DATABASE_URL`: every host of the cluster. */
  readonly url: string;
  /** Central processes to start on it. */
  readonly centrals: number;
  /** Rows stored in `bets`. */
  storedBets(): Promise<number>;
}

/**
 * `name`'s database and its synthetic scenario (`AxB`), or `null` for a
 * scenario of the file store.
 */
export async function benchDatabase(
  name: string,
): Promise<{ base: string; database: BenchDatabase } | null> {
  const match = /^pg(2)?-(\d+x\d+)$/.exec(name);
  if (match === null) return null;
  const two = match[1] !== undefined;
  const primary = await PgServer.primary(two ? "standby1" : null);
  const standby = two ? await PgServer.standby(primary, "standby1") : null;
  const hosts = [primary, ...(standby === null ? [] : [standby])];
  const url = `postgres://postgres@${
    hosts.map((h) => `127.0.0.1:${h.port}`).join(",")
  }/postgres`;
  return {
    base: match[2]!,
    database: {
      url,
      centrals: two ? 2 : 1,
      async storedBets() {
        await using client = new PgClient(url, 1);
        return await client.run(async (sql) =>
          (await sql<{ n: number }[]>`select count(*)::int as n from bets`)[0]!
            .n
        );
      },
      async [Symbol.asyncDispose]() {
        for (const host of hosts.reverse()) await host[Symbol.asyncDispose]();
      },
    },
  };
}
