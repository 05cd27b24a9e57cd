/**
 * The group commit of batches into bets.csv and the ledger.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import type { StorageRows } from "../../lib/bet_row.ts";
import { concatBytes } from "../../lib/concat_bytes.ts";
import type { ActionLog } from "../../lib/log.ts";
import { DROPPED, Pipeline, refuse, type StoreOutcome } from "../outcomes.ts";
import { cutToCommitted, storeBets } from "./bets_csv.ts";
import type { Ledger } from "./ledger.ts";
import type { AgencyRecord, StreamIdentity } from "./ledger_record.ts";
import type { RunningDigests } from "./running_digests.ts";
import { Spool } from "./spool.ts";
import { storageFullRefusal } from "./storage_full.ts";
import type { StorageLock } from "./storage_lock.ts";
import { streamConflict } from "./stream_conflict.ts";
import { batchPlace, settleGroup } from "./batch_rule.ts";

/**
 * Most agencies in one group commit, which bounds a ledger record (21 bytes
 * per agency) and how long a group holds the storage lock.
 */
export const MAX_GROUP_AGENCIES = 500;

/** What a {@linkcode BatchWriter} writes with. */
export interface BatchWriterDeps {
  /** Serialises storage across workers and sessions. */
  readonly lock: StorageLock;
  /** What each agency has stored; read and written under the lock. */
  readonly ledger: Ledger;
  /** bets.csv, open for appending. */
  readonly betsFile: Deno.FsFile;
  /** Where a failed group commit, and the first one after it, are logged. */
  readonly log: ActionLog;
  /** Each agency's stream hashed as its rows are committed, for the finish. */
  readonly digests: RunningDigests;
}

interface Queued {
  readonly agency: number;
  readonly first: number;
  /** Bets in the batch. */
  readonly count: number;
  /** The connection's requests: after a refusal of one, later ones are dropped. */
  readonly pipeline: Pipeline;
  /** The stream the connection's hello announced, or null (no hello). */
  readonly stream: StreamIdentity | null;
  /** Where its rows are in the spool that holds them. */
  start: number;
  end: number;
  readonly resolve: (outcome: StoreOutcome) => void;
}

/**
 * Stores batches exactly once and durably, many at a time (group commit):
 * batches that arrive while a group is being flushed wait, and the next
 * group takes all of them, under the storage lock: it reads what other
 * workers committed to the ledger, appends the rows to bets.csv and flushes
 * them, then appends one ledger record and flushes it. Each batch still gets
 * its own outcome, in the order it came: two small flushes per group instead
 * of per batch, and no KV in the path.
 *
 * The rules per batch (the central's exactly-once): a batch of a stream
 * other than the one the ledger holds for its agency is a `conflict`; bets
 * before the agency's stored count are a resend and skipped, a batch past
 * it is a gap, a finished agency takes no more. Later batches of a group
 * see the counts the earlier ones left. An agency's stream is recorded in
 * the ledger with the group that first stores its bets, in the same append
 * and flush, and each commit records the SHA-256 of each agency's rows it
 * appended (checked at start-up: `verify_bets.ts`).
 *
 * A group that fails (a full disk) stores nothing: each of its batches is
 * refused, `busy` when the storage is full, and a `storage_write` fail line
 * is logged (the worker rate-limits it); the first group committed after
 * that logs `storage_write | result: success`.
 */
export class BatchWriter {
  readonly #deps: BatchWriterDeps;
  #queue: Queued[] = [];
  #running = false;
  /** Takes the rows of queued batches; the group being committed has the other. */
  #filling = new Spool();
  #committing = new Spool();
  /** Groups that failed in a row (a full disk): the next success says so. */
  #failedGroups = 0;

  /**
   * A writer on the open files in `deps`.
   *
   * @param deps the open resources this writer writes with
   */
  constructor(deps: BatchWriterDeps) {
    this.#deps = deps;
  }

  /**
   * Queues the rows of `agency` whose first bet is bet number `first` of its
   * stream and resolves with what
   * became of them once their group is committed. Never rejects: a failure
   * is an `internal` refusal (nothing of the batch was committed). The rows
   * are copied before it returns: `rows.bytes` may be a view of a buffer
   * the caller reuses. A batch whose `pipeline` holds a refusal when its
   * group is committed is {@linkcode DROPPED}, unstored; a refusal of this
   * batch is recorded there. `stream` is the one the connection's hello
   * announced (`null`: none, as in tests of the rules alone).
   */
  store(
    agency: number,
    first: number,
    rows: StorageRows,
    pipeline: Pipeline = new Pipeline(),
    stream: StreamIdentity | null = null,
  ): Promise<StoreOutcome> {
    return new Promise((resolve) => {
      const start = this.#filling.append(rows.bytes);
      const end = start + rows.bytes.length;
      this.#queue.push({
        agency,
        first,
        count: rows.count,
        pipeline,
        stream,
        start,
        end,
        resolve,
      });
      if (!this.#running) void this.#drain();
    });
  }

  /** Bytes of rows waiting for a group commit (sessions hold back above a limit). */
  get queuedBytes(): number {
    // The filling spool holds the rows of exactly the queued batches.
    return this.#filling.used;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const group = this.#takeGroup();
        let outcomes: StoreOutcome[];
        try {
          outcomes = await this.#deps.lock.run(() => this.#commit(group));
          if (this.#failedGroups > 0) {
            this.#deps.log.info("storage_write", "success", {
              failed_groups: this.#failedGroups,
            });
            this.#failedGroups = 0;
          }
        } catch (error) {
          // Nothing of the group is committed: its batches were never
          // acknowledged, and their agencies send them again.
          this.#failedGroups++;
          const refusal = storageFullRefusal(error) ?? refuse(
            "internal",
            `Cannot store bets: ${(error as Error).message}`,
          );
          this.#deps.log.error("storage_write", "fail", {
            error: refusal.reason,
          });
          outcomes = group.map(() => refusal);
        }
        settleGroup(group, outcomes);
      }
    } finally {
      this.#running = false;
    }
  }

  /**
   * The oldest queued batches, up to {@linkcode MAX_GROUP_AGENCIES}
   * agencies; their rows move to the committing spool, and batches left
   * queued have theirs copied to the emptied filling one.
   */
  #takeGroup(): Queued[] {
    const agencies = new Set<number>();
    let n = 0;
    for (; n < this.#queue.length; n++) {
      const agency = this.#queue[n]!.agency;
      if (!agencies.has(agency) && agencies.size >= MAX_GROUP_AGENCIES) break;
      agencies.add(agency);
    }
    const group = this.#queue.slice(0, n);
    this.#queue = this.#queue.slice(n);
    const taken = this.#filling;
    this.#filling = this.#committing;
    this.#committing = taken;
    this.#filling.clear();
    for (const queued of this.#queue) {
      const length = queued.end - queued.start;
      queued.start = this.#filling.append(taken.view(queued.start, queued.end));
      queued.end = queued.start + length;
    }
    return group;
  }

  async #commit(group: readonly Queued[]): Promise<StoreOutcome[]> {
    const { ledger, betsFile } = this.#deps;
    ledger.refresh();
    const committed = ledger.betsSize;
    const cut = cutToCommitted(betsFile, committed);
    if (!cut.ok) {
      const refusal = refuse("internal", `Cannot store bets: ${cut.problem}`);
      return group.map(() => refusal);
    }
    // Later batches of the group see what the earlier ones changed.
    const changed = new Map<number, AgencyRecord>();
    const streams = new Map<number, StreamIdentity>();
    // Each agency's rows in this commit, hashed for the start-up check.
    const hashes = new Map<number, Hash>();
    const spool = this.#committing;
    const parts: Uint8Array[] = [];
    // Each stored batch: its agency, its stored rows before it, its rows.
    const appended: [number, number, Uint8Array, number][] = [];
    let bytes = 0;
    let bets = 0;
    let whole = 0;
    const decide = (queued: Queued): StoreOutcome => {
      const { agency, first, count, stream } = queued;
      const known = stream === null
        ? null
        : streams.get(agency) ?? ledger.stream(agency);
      const conflict = stream === null
        ? null
        : streamConflict(agency, stream, known);
      if (conflict !== null) return conflict;
      const record = changed.get(agency) ?? ledger.record(agency);
      let part = spool.view(queued.start, queued.end);
      const skipped = batchPlace(
        agency,
        first,
        count,
        record.bets,
        record.finished,
      );
      if (typeof skipped !== "number") return skipped;
      if (skipped > 0) part = afterLines(part, skipped);
      const next: AgencyRecord = {
        ...record,
        bets: record.bets + count - skipped,
      };
      changed.set(agency, next);
      // The stream is recorded with the first bets stored of it.
      if (stream !== null && known === null) streams.set(agency, stream);
      parts.push(part);
      appended.push([agency, record.bets, part, count - skipped]);
      let hash = hashes.get(agency);
      if (hash === undefined) hashes.set(agency, hash = createHash("sha256"));
      hash.update(part);
      bytes += part.length;
      bets += count - skipped;
      if (skipped === 0) whole++;
      return { status: "stored", stored: count - skipped, skipped };
    };
    const outcomes = group.map((queued): StoreOutcome => {
      const { pipeline } = queued;
      // Read after a refusal on its connection (maybe earlier in this group).
      if (pipeline.refusal !== null) return DROPPED;
      const outcome = decide(queued);
      if (outcome.status === "refused") pipeline.refuse(outcome);
      return outcome;
    });
    if (parts.length === 0) return outcomes;
    // Usually every batch of the group is stored whole: their rows are
    // already back to back in the spool.
    storeBets(betsFile, {
      bytes: whole === group.length
        ? spool.view(group[0]!.start, group.at(-1)!.end)
        : concatBytes(parts),
      count: bets,
    });
    await betsFile.syncData();
    const digests = new Map<number, Uint8Array>();
    for (const [agency, hash] of hashes) digests.set(agency, hash.digest());
    await ledger.commit(changed, committed + bytes, streams, digests);
    for (const batch of appended) this.#deps.digests.committed(...batch);
    return outcomes;
  }
}

/** `rows` without its first `n` lines. */
function afterLines(rows: Uint8Array, n: number): Uint8Array {
  let at = 0;
  for (let k = 0; k < n; k++) at = rows.indexOf(0x0a, at) + 1;
  return rows.subarray(at);
}
