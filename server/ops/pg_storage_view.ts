/**
 * A read-only view of the PostgreSQL store for `central status`: each
 * agency's announced stream, bets stored and finish from `agencies`, and the
 * draw from `draw`. Plain selects on one connection, so the centrals that
 * share the database are not disturbed.
 *
 * @module
 */
import { PgClient } from "../postgres/pg_client.ts";
import type { DrawSummary } from "../store/lottery_state.ts";
import type { StorageReader, StorageSnapshot } from "./storage_view.ts";

interface AgencyRow {
  id: number;
  total: string | null;
  bets: string;
  finished: boolean;
}

/** Reads the PostgreSQL store without disturbing the centrals on it. */
export class PgStorageView implements StorageReader {
  readonly #client: PgClient;

  /**
   * A read-only view of the store at `databaseUrl`.
   *
   * @param databaseUrl the centrals' `DATABASE_URL` (never printed)
   */
  constructor(databaseUrl: string) {
    this.#client = new PgClient(databaseUrl, 1);
  }

  /**
   * Where every agency stands now; `agencies` (the configured count) adds
   * the agencies that have sent nothing yet. Throws when no central has
   * made the tables yet.
   */
  async snapshot(agencies = 0): Promise<StorageSnapshot> {
    const { rows, draw } = await this.#client.run(async (sql) => {
      const [tables] = await sql<{ found: boolean }[]>`
        select to_regclass('agencies') is not null as found`;
      if (!tables!.found) {
        throw new Deno.errors.NotFound(
          "Cannot read the database: it has no agencies table (no central has started on it)",
        );
      }
      const rows = await sql<AgencyRow[]>`
        select id, total, bets, finished from agencies order by id`;
      const [draw] = await sql<{ summary: DrawSummary }[]>`
        select summary from draw where id = 1`;
      return { rows, draw: draw?.summary ?? null };
    });
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (let id = 1; id <= agencies; id++) {
      if (!byId.has(id)) {
        byId.set(id, { id, total: null, bets: "0", finished: false });
      }
    }
    const standings = [...byId.values()].sort((a, b) => a.id - b.id).map(
      (row) => ({
        agency: row.id,
        stored: Number(row.bets),
        total: row.total === null ? null : Number(row.total),
        finished: row.finished,
        winners: draw === null ? null : draw.perAgency[row.id] ?? 0,
      }),
    );
    return {
      agencies: standings,
      stored: standings.reduce((sum, a) => sum + a.stored, 0),
      finished: standings.filter((a) => a.finished).length,
      draw: draw === null
        ? null
        : { total: draw.total, digest: draw.digest, at: null },
    };
  }

  /** Ends its connection. Idempotent. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#client[Symbol.asyncDispose]();
  }
}
