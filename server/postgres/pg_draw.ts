/**
 * The draw on PostgreSQL: made once across every central (an advisory
 * transaction lock and a one-row table), its winners kept in the same
 * form, and with the same digest, as the file store's winners file, and
 * its `sorteo` line logged once in the whole system (a `logged` mark set
 * in the transaction that logs it).
 *
 * @module
 */
import { LOTTERY_WINNER_NUMBER } from "../../lib/bet.ts";
import { parseCsvLine } from "../../lib/csv.ts";
import {
  type Announce,
  type Draw,
  type DrawMade,
  verifiedDraw,
} from "../store/draw_keeper.ts";
import type postgres from "postgres";
import type { PgClient } from "./pg_client.ts";
import { LOCKS } from "./pg_schema.ts";

/** A draw's scan of every stored bet may take this long. */
const DRAW_DEADLINE_MS = 120_000;

const encoder = new TextEncoder();

/** Makes, keeps and serves the draw; see the module comment. */
export class PgDraw {
  readonly #client: PgClient;

  /**
   * A keeper of the draw in `client`'s database.
   *
   * @param client the database
   */
  constructor(client: PgClient) {
    this.#client = client;
  }

  /**
   * Makes the draw of the `agencies` agencies unless one is stored (under
   * the draw's advisory lock, in one transaction with its row), then
   * settles it: `announce` is called once for it in the system's life.
   */
  async make(agencies: number, announce: Announce): Promise<DrawMade> {
    const started = performance.now();
    const made = await this.#client.run(
      (sql) =>
        sql.begin(async (tx) => {
          await tx`select pg_advisory_xact_lock(${LOCKS.draw})`;
          const [row] = await tx`select 1 from draw where id = 1`;
          if (row !== undefined) return false;
          const { text, draw } = await scan(tx, agencies);
          await tx`insert into draw (id, agencies, digest, winners, summary, logged)
            values (1, ${agencies}, ${draw.summary.digest}, ${text},
              ${tx.json(draw.summary as never)}, false)`;
          return true;
        }),
      DRAW_DEADLINE_MS,
    );
    const ms = performance.now() - started;
    const draw = await this.settle(announce, made ? ms : null);
    return { draw, made, ms: made ? ms : 0 };
  }

  /**
   * The stored draw, its winners checked against its digest; announced
   * (`ms`: how long making it took, or `null`) and marked logged, in one
   * transaction under the draw's lock, unless it was before.
   */
  async settle(announce: Announce, ms: number | null = null): Promise<Draw> {
    return await this.#client.run((sql) =>
      sql.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(${LOCKS.draw})`;
        const [row] = await tx<
          { winners: string; digest: string; logged: boolean }[]
        >`select winners, digest, logged from draw where id = 1`;
        if (row === undefined) {
          throw new Error("Cannot serve the draw: the database holds none");
        }
        const draw = await verifiedDraw(
          encoder.encode(row.winners),
          row.digest,
        );
        if (draw === null) {
          throw new Error(
            "Cannot serve the draw: its stored winners do not match its digest",
          );
        }
        if (!row.logged) {
          announce(draw, ms);
          await tx`update draw set logged = true where id = 1`;
        }
        return draw;
      })
    );
  }
}

/**
 * The winners of every stored bet, per agency in stream order, as the
 * winners file's text (every agency listed) and the draw it holds.
 */
async function scan(
  sql: postgres.TransactionSql,
  agencies: number,
): Promise<{ text: string; draw: Draw }> {
  const winners: Record<string, string[]> = {};
  for (let id = 1; id <= agencies; id++) winners[String(id)] = [];
  const rows = await sql<{ agency: number; row: string }[]>`select agency, row
    from bets where row like ${"%," + LOTTERY_WINNER_NUMBER}
    order by agency, position`;
  for (const { agency, row } of rows) {
    const document = parseCsvLine(row)[3];
    if (document === undefined) {
      throw new SyntaxError(
        `Cannot make the draw: a stored row is not a bet: ${row}`,
      );
    }
    (winners[String(agency)] ??= []).push(document);
  }
  const text = JSON.stringify(winners);
  const digest = await sha256(encoder.encode(text));
  return { text, draw: (await verifiedDraw(encoder.encode(text), digest))! };
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    bytes as Uint8Array<ArrayBuffer>,
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}
