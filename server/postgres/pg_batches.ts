/**
 * The group commit of batches into PostgreSQL, the exactly-once rule of
 * the file store's batch writer on rows of a database shared by several
 * centrals.
 *
 * @module
 */
import type { StorageRows } from "../../lib/bet_row.ts";
import type { ActionLog } from "../../lib/log.ts";
import {
  DROPPED,
  type Pipeline,
  refuse,
  type StoreOutcome,
} from "../outcomes.ts";
import type { StreamIdentity } from "../store/ledger_record.ts";
import { streamConflict } from "../store/stream_conflict.ts";
import { batchPlace, settleGroup } from "../store/batch_rule.ts";
import type { PgClient, Sql } from "./pg_client.ts";

/** Most bets one group commit takes (more wait for the next one). */
export const MAX_GROUP_BETS = 10_000;

interface Queued {
  readonly agency: number;
  readonly first: number;
  /** The batch's rows as text: copied at once, as the bytes are the reader's buffer. */
  readonly text: string;
  readonly count: number;
  readonly pipeline: Pipeline;
  readonly stream: StreamIdentity | null;
  readonly resolve: (outcome: StoreOutcome) => void;
}

interface AgencyRow {
  id: number;
  total: string | null;
  digest: Uint8Array | null;
  bets: string;
  finished: boolean;
}

/**
 * Stores batches exactly once, many at a time: batches that arrive while a
 * group commits wait, and the next group takes them in one transaction. It
 * locks the group's agencies' rows `FOR UPDATE` in id order (so centrals
 * never deadlock), skips what is stored (a resend), refuses a gap, a
 * finished agency or another stream (`conflict`), `COPY`s only the new
 * rows, updates the counts and commits: the commit is the acknowledgement.
 * A group that fails (a lost connection, a failover, a deadline) is
 * refused `internal` whole; its agencies send it again.
 */
export class PgBatches {
  readonly #client: PgClient;
  readonly #log: ActionLog;
  #queue: Queued[] = [];
  #queuedBytes = 0;
  #running = false;

  /**
   * A writer of batch groups to `client`.
   *
   * @param client the database
   * @param log where a failed group is logged (`storage_write`)
   */
  constructor(client: PgClient, log: ActionLog) {
    this.#client = client;
    this.#log = log;
  }

  /** Stores `rows` of `agency` from its bet `first` on; settles after the commit. */
  store(
    agency: number,
    first: number,
    rows: StorageRows,
    pipeline: Pipeline,
    stream: StreamIdentity | null,
  ): Promise<StoreOutcome> {
    return new Promise((resolve) => {
      const text = decoder.decode(rows.bytes);
      const count = rows.count;
      this.#queue.push({
        agency,
        first,
        text,
        count,
        pipeline,
        stream,
        resolve,
      });
      this.#queuedBytes += text.length;
      if (!this.#running) void this.#drain();
    });
  }

  /** Bytes of rows waiting for a group commit. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const group = this.#takeGroup();
        let outcomes: StoreOutcome[];
        try {
          outcomes = await this.#client.run((sql) => this.#commit(sql, group));
        } catch (error) {
          const refusal = refuse(
            "internal",
            `Cannot store bets: ${(error as Error).message}`,
          );
          this.#log.error("storage_write", "fail", { error: refusal.reason });
          outcomes = group.map(() => refusal);
        }
        settleGroup(group, outcomes);
      }
    } finally {
      this.#running = false;
    }
  }

  #takeGroup(): Queued[] {
    let n = 0;
    let bets = 0;
    while (n < this.#queue.length && (n === 0 || bets < MAX_GROUP_BETS)) {
      bets += this.#queue[n]!.count;
      n++;
    }
    const group = this.#queue.slice(0, n);
    this.#queue = this.#queue.slice(n);
    for (const queued of group) this.#queuedBytes -= queued.text.length;
    return group;
  }

  async #commit(sql: Sql, group: readonly Queued[]): Promise<StoreOutcome[]> {
    const ids = [...new Set(group.map((q) => q.agency))].sort((a, b) => a - b);
    return await sql.begin(async (tx) => {
      await tx`insert into agencies (id) select unnest(${ids}::int[])
        on conflict do nothing`;
      const rows = await tx<
        AgencyRow[]
      >`select id, total, digest, bets, finished
        from agencies where id = any(${ids}::int[]) order by id for update`;
      const records = new Map(rows.map((r) => [r.id, {
        stream: r.total === null || r.digest === null
          ? null as StreamIdentity | null
          : { total: Number(r.total), digest: new Uint8Array(r.digest) },
        bets: Number(r.bets),
        finished: r.finished,
        changed: false,
      }]));
      const copy: string[] = [];
      const outcomes = group.map((queued): StoreOutcome => {
        if (queued.pipeline.refusal !== null) return DROPPED;
        const { agency, first, count, stream } = queued;
        const record = records.get(agency)!;
        const conflict = stream === null
          ? null
          : streamConflict(agency, stream, record.stream);
        if (conflict !== null) return queued.pipeline.refuse(conflict);
        const skipped = batchPlace(
          agency,
          first,
          count,
          record.bets,
          record.finished,
        );
        if (typeof skipped !== "number") {
          return skipped.status === "refused"
            ? queued.pipeline.refuse(skipped)
            : skipped;
        }
        const lines = queued.text.split("\n");
        for (let k = skipped; k < count; k++) {
          copy.push(`${agency}\t${first + k}\t${escapeCopy(lines[k]!)}\n`);
        }
        record.bets += count - skipped;
        if (stream !== null && record.stream === null) {
          record.stream = { total: stream.total, digest: stream.digest };
        }
        record.changed = true;
        return { status: "stored", stored: count - skipped, skipped };
      });
      if (copy.length === 0) return outcomes;
      const writable = await tx`copy bets (agency, position, row) from stdin`
        .writable();
      await new Promise<void>((resolve, reject) => {
        writable.on("error", reject);
        writable.on("finish", resolve);
        writable.end(copy.join(""));
      });
      const changed = [...records].filter(([, r]) => r.changed);
      const ids2 = changed.map(([id]) => id);
      const counts = changed.map(([, r]) => r.bets);
      const totals = changed.map(([, r]) => r.stream?.total ?? null);
      const digests = changed.map(([, r]) =>
        r.stream === null ? null : hex(r.stream.digest)
      );
      await tx`update agencies set bets = c.bets,
          total = coalesce(agencies.total, c.total),
          digest = coalesce(agencies.digest, decode(c.digest, 'hex'))
        from (select unnest(${ids2}::int[]) as id,
          unnest(${counts}::bigint[]) as bets,
          unnest(${totals}::bigint[]) as total,
          unnest(${digests}::text[]) as digest) as c
        where agencies.id = c.id`;
      return outcomes;
    });
  }
}

const decoder = new TextDecoder();

/** A row as `COPY … FROM STDIN` text: backslashes doubled (rows hold no tab or line break). */
function escapeCopy(row: string): string {
  return row.includes("\\") ? row.replaceAll("\\", "\\\\") : row;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
