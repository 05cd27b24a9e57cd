/**
 * The PostgreSQL store: the {@linkcode StorageBackend} of several centrals
 * on several hosts sharing one (replicated) database. A central holds no
 * state of its own: every fact is a row, changed in a transaction whose
 * commit comes before any answer that depends on it. See `pg_schema.ts`
 * for the tables, `pg_batches.ts` for the exactly-once group commit and
 * `pg_draw.ts` for the draw.
 *
 * @module
 */
import type { ActionLog } from "../../lib/log.ts";
import {
  type OpenOutcome,
  type Pipeline,
  type Refusal,
  refuse,
  type StoreOutcome,
} from "../outcomes.ts";
import type { StorageRows } from "../../lib/bet_row.ts";
import type {
  Announce,
  Draw,
  DrawMade,
  DrawSummary,
  Finished,
  Progress,
  StorageBackend,
  StreamIdentity,
} from "../store/backend.ts";
import { sameStream, streamConflict } from "../store/stream_conflict.ts";
import type { PgClient } from "./pg_client.ts";
import { PgBatches } from "./pg_batches.ts";
import { PgDraw } from "./pg_draw.ts";
import { ensureSchema } from "./pg_schema.ts";

/** What a {@linkcode PgStore} works with; `main` opens and closes the client. */
export interface PgStoreDeps {
  /** The database. */
  readonly client: PgClient;
  /** Where `storage_recovered` and a failed write's line go. */
  readonly log: ActionLog;
}

/** A finish's checks can read every row of a large agency. */
const FINISH_DEADLINE_MS = 60_000;

/** The central's durable state in PostgreSQL; see the module comment. */
export class PgStore implements StorageBackend {
  readonly #deps: PgStoreDeps;
  readonly #batches: PgBatches;
  readonly #draws: PgDraw;

  /**
   * A store on the database in `deps`.
   *
   * @param deps the database and the log
   */
  constructor(deps: PgStoreDeps) {
    this.#deps = deps;
    this.#batches = new PgBatches(deps.client, deps.log);
    this.#draws = new PgDraw(deps.client);
  }

  /** See {@linkcode StorageBackend.openStream}. */
  async openStream(
    agency: number,
    stream: StreamIdentity,
  ): Promise<OpenOutcome> {
    try {
      return await this.#deps.client.run(async (sql) => {
        const [row] = await sql<
          { total: string | null; digest: Uint8Array | null; bets: string }[]
        >`select total, digest, bets from agencies where id = ${agency}`;
        const known = row?.total == null || row.digest === null
          ? null
          : { total: Number(row.total), digest: new Uint8Array(row.digest) };
        return streamConflict(agency, stream, known) ??
          { status: "open" as const, stored: Number(row?.bets ?? 0) };
      });
    } catch (error) {
      return this.#failed("open the stream", error);
    }
  }

  /** See {@linkcode StorageBackend.store}. */
  store(
    agency: number,
    first: number,
    rows: StorageRows,
    pipeline: Pipeline,
    stream: StreamIdentity | null,
  ): Promise<StoreOutcome> {
    return this.#batches.store(agency, first, rows, pipeline, stream);
  }

  /** Bytes of batches waiting to be committed in this process. */
  get backlogBytes(): number {
    return this.#batches.queuedBytes;
  }

  /**
   * See {@linkcode StorageBackend.finish}: the stored rows are hashed in
   * the database, in stream order, under the agency's row lock.
   */
  async finish(
    agency: number,
    total: number,
    digest: Uint8Array,
  ): Promise<Finished | Refusal> {
    try {
      return await this.#deps.client.run(
        (sql) => this.#finish(sql, agency, { total, digest }),
        FINISH_DEADLINE_MS,
      );
    } catch (error) {
      return this.#failed(`finish agency ${agency}`, error);
    }
  }

  async #finish(
    sql: Parameters<Parameters<PgClient["run"]>[0]>[0],
    agency: number,
    stream: StreamIdentity,
  ): Promise<Finished | Refusal> {
    const outcome = await sql.begin(async (tx) => {
      await tx`insert into agencies (id) values (${agency}) on conflict do nothing`;
      const [row] = await tx<
        {
          bets: string;
          finished: boolean;
          total: string | null;
          digest: Uint8Array | null;
        }[]
      >`select bets, finished, total, digest from agencies
        where id = ${agency} for update`;
      const bets = Number(row!.bets);
      if (row!.finished) return { bets, first: false };
      // The stream recorded with the agency's first bets is the one finished.
      const conflict = streamConflict(
        agency,
        stream,
        row!.total === null || row!.digest === null
          ? null
          : { total: Number(row!.total), digest: new Uint8Array(row!.digest) },
      );
      if (conflict !== null) return conflict;
      if (bets !== stream.total) {
        return refuse(
          "incomplete",
          `Cannot finish agency ${agency}: it announced ${stream.total} bets, ${bets} are stored`,
        );
      }
      const [hashed] = await tx<{ rows: string; digest: Uint8Array }[]>`
        select count(*) as rows, sha256(convert_to(coalesce(
          string_agg(row || E'\\n', '' order by position), ''), 'UTF8')) as digest
        from bets where agency = ${agency}`;
      const stored = {
        total: Number(hashed!.rows),
        digest: new Uint8Array(hashed!.digest),
      };
      if (!sameStream(stream, stored)) {
        return refuse(
          "conflict",
          `Cannot finish agency ${agency}: the ${stored.total} bets stored under its id do not hash to the digest its hello announced (bets not of its file were stored in its name); its stream cannot be completed`,
        );
      }
      await tx`update agencies set finished = true,
        total = coalesce(total, ${stream.total}),
        digest = coalesce(digest, ${stream.digest})
        where id = ${agency}`;
      return { bets, first: true };
    });
    if ("status" in outcome) return outcome;
    const [count] = await sql<{ finished: number }[]>`
      select count(*)::int as finished from agencies where finished`;
    return {
      status: "finished",
      record: { bets: outcome.bets, singles: 0, finished: true },
      finished: count!.finished,
      first: outcome.first,
    };
  }

  /** The draw's summary (or `null`) and how many agencies have finished: one query. */
  async progress(): Promise<Progress> {
    return await this.#deps.client.run(async (sql) => {
      const [row] = await sql<
        { finished: number; summary: DrawSummary | null }[]
      >`select (select count(*)::int from agencies where finished) as finished,
        (select summary from draw where id = 1) as summary`;
      return { draw: row!.summary, finished: row!.finished };
    });
  }

  /** The stored draw, checked; see {@linkcode PgDraw.settle}. */
  loadDraw(_summary: DrawSummary, announce: Announce): Promise<Draw> {
    return this.#draws.settle(announce);
  }

  /** See {@linkcode PgDraw.make}. */
  makeDraw(agencies: number, announce: Announce): Promise<DrawMade> {
    return this.#draws.make(agencies, announce);
  }

  /**
   * Start-up: makes the tables unless they exist, logs
   * `storage_recovered`, and settles a stored draw nobody announced.
   */
  async recover(announce: Announce): Promise<void> {
    const { client, log } = this.#deps;
    await client.run((sql) => ensureSchema(sql));
    const { draw, finished } = await this.progress();
    log.info("storage_recovered", "success", {
      backend: "postgres",
      finished_agencies: finished,
      draw: draw === null ? "pending" : "done",
    });
    if (draw !== null) await this.#draws.settle(announce);
  }

  #failed(action: string, error: unknown): Refusal {
    const reason = `Cannot ${action}: ${(error as Error).message}`;
    this.#deps.log.error("storage_write", "fail", { error: reason });
    return refuse("internal", reason);
  }
}
