/**
 * The one owner of the central's durable state, behind the interface
 * {@linkcode Store} that the rules use. Each fact has one source of truth:
 *
 * - which stream each agency announced (its total and digest), what it
 *   stored and whether it finished: the ledger (`ledger.bin`), with the
 *   committed size of bets.csv;
 * - the bets: bets.csv up to that committed size (bytes past it are cut
 *   off: {@linkcode cutToCommitted}), each commit's rows checked at
 *   start-up against the keyed MACs the ledger recorded for them;
 * - the draw: its record in the ledger, and the winners file
 *   (`winners.json`), served only if it matches that record's digest
 *   (`draw_keeper.ts`).
 *
 * The finished-agency counter and the draw's summary in Deno KV
 * (`central.kv`) repeat what the ledger says, for the workers to see
 * cheaply whether the draw is due; they are checked against the ledger,
 * and rebuilt from it, at start-up ({@linkcode Store.recover}). Every
 * change happens under the storage lock; every file is the central's
 * alone (`private_files.ts`).
 *
 * @module
 */
import { join } from "node:path";
import {
  type OpenOutcome,
  type Refusal,
  refuse,
  type StoreOutcome,
} from "../outcomes.ts";
import { BatchWriter } from "./batch_writer.ts";
import { BETS_FILE, cutToCommitted } from "./bets_csv.ts";
import {
  type Announce,
  type Draw,
  DrawKeeper,
  type DrawMade,
  WINNERS_FILE,
} from "./draw_keeper.ts";
import { decodeLedgerRecords, type StreamIdentity } from "./ledger_record.ts";
import type { Finished, Progress, StorageBackend } from "./backend.ts";
import { sameStream, streamConflict } from "./stream_conflict.ts";
import type { DrawSummary } from "./lottery_state.ts";
import { storageFullRefusal } from "./storage_full.ts";
import type { StorageHandles } from "./storage_handles.ts";
import { type StoredStream, StreamHashes } from "./stream_hashes.ts";
import { RunningDigests } from "./running_digests.ts";

export { type Announce, type Draw, type DrawMade, type Finished, WINNERS_FILE };

/** The lockfile every worker locks around storage, in the storage directory. */
export const LOCK_FILE = "central.lock";
/** The Deno KV file, in the storage directory. */
export const KV_FILE = "central.kv";
/** The ledger (what each agency has stored), in the storage directory. */
export const LEDGER_FILE = "ledger.bin";

/** The open handles a {@linkcode Store} works with; `main` opens and closes them. */
export type StoreDeps = StorageHandles;

/**
 * The file store: the central's durable state on one host, every read and
 * write of it through here; the {@linkcode StorageBackend} of one host.
 */
export class Store implements StorageBackend {
  readonly #deps: StoreDeps;
  /** Made at the first batch: recovery, in the supervisor, needs none. */
  #writer: BatchWriter | null = null;
  readonly #draws: DrawKeeper;
  /** Each stream's rows hashed as this worker commits them, for the finish check. */
  readonly #digests = new RunningDigests();
  /** Each stream's stored rows hashed from bets.csv, when those fall short. */
  readonly #hashes: StreamHashes;

  /**
   * A store on the open handles in `deps`.
   *
   * @param deps the open handles this store works with
   */
  constructor(deps: StoreDeps) {
    this.#deps = deps;
    this.#draws = new DrawKeeper(deps);
    this.#hashes = new StreamHashes(join(deps.storageDir, BETS_FILE));
  }

  /**
   * Opens the stream a proven connection of `agency` announced: a stream
   * other than the one the ledger holds for it is refused as `conflict` (a
   * different file under the same id); the same one (a resend, or the agency
   * started again on the same file), or any while none is held, is welcome.
   * A stream is recorded with the first group commit that stores its bets
   * ({@linkcode BatchWriter}), not here: a hello costs no flush. Returns how
   * many of the agency's bets are stored.
   */
  async openStream(
    agency: number,
    stream: StreamIdentity,
  ): Promise<OpenOutcome> {
    const { lock, ledger } = this.#deps;
    return await lock.run(() => {
      ledger.refresh();
      return streamConflict(agency, stream, ledger.stream(agency)) ??
        { status: "open" as const, stored: ledger.record(agency).bets };
    });
  }

  /**
   * Stores the rows of an agency's batch (or single bets) exactly once;
   * batches are committed in groups: see {@linkcode BatchWriter.store}.
   */
  store(...batch: Parameters<BatchWriter["store"]>): Promise<StoreOutcome> {
    this.#writer ??= new BatchWriter({ ...this.#deps, digests: this.#digests });
    return this.#writer.store(...batch);
  }

  /** Bytes of batches waiting to be committed in this worker. */
  get backlogBytes(): number {
    return this.#writer?.queuedBytes ?? 0;
  }

  /**
   * Records that `agency` has sent all its stream, of `total` bets whose
   * rows hash to `digest` (its hello's), then counts it in KV. Refused
   * `incomplete` while the ledger holds another count, and `conflict`
   * unless the rows stored for the agency hash to `digest` (rows that are
   * not of its file were stored under its name). A stream not recorded yet
   * (no bet stored: an empty file) is recorded with the finish. Idempotent.
   * On a full disk it is refused `busy` (logged as `storage_write`), and
   * the agency sends it again.
   */
  async finish(
    agency: number,
    total: number,
    digest: Uint8Array,
  ): Promise<Finished | Refusal> {
    try {
      return await this.#finish(agency, { total, digest });
    } catch (error) {
      const full = storageFullRefusal(error);
      if (full === null) throw error;
      this.#deps.log.error("storage_write", "fail", { error: full.reason });
      return full;
    }
  }

  async #finish(
    agency: number,
    stream: StreamIdentity,
  ): Promise<Finished | Refusal> {
    const { lock, state, ledger } = this.#deps;
    return await lock.run(async () => {
      ledger.refresh();
      let record = ledger.record(agency);
      if (!record.finished) {
        const refusal = await this.#checkFinish(agency, stream);
        if (refusal !== null) return refusal;
        record = { ...record, finished: true };
        const streams = new Map(
          ledger.stream(agency) === null ? [[agency, stream]] : [],
        );
        await ledger.commit(
          new Map([[agency, record]]),
          ledger.betsSize,
          streams,
        );
      }
      // The ledger refuses the agency's bets from now on; KV counts it for
      // the draw. Both steps are idempotent, so a worker that dies between
      // them leaves the agency's next finish (it retries), or the next
      // start-up, to complete them.
      const counted = await state.countFinished(agency);
      return { status: "finished" as const, record, ...counted };
    });
  }

  /** Why `agency` may not finish `stream` now, or `null`; hold the lock. */
  async #checkFinish(
    agency: number,
    stream: StreamIdentity,
  ): Promise<Refusal | null> {
    const { ledger } = this.#deps;
    // The stream recorded with the agency's first bets is the one finished.
    const conflict = streamConflict(agency, stream, ledger.stream(agency));
    if (conflict !== null) return conflict;
    const record = ledger.record(agency);
    if (record.bets !== stream.total) {
      return refuse(
        "incomplete",
        `Cannot finish agency ${agency}: it announced ${stream.total} bets, ${record.bets} are stored`,
      );
    }
    const stored = await this.#stored(agency, record.bets);
    if (stored.rows !== record.bets) {
      return refuse(
        "internal",
        `Cannot finish agency ${agency}: ${BETS_FILE} holds ${stored.rows} of its rows, the ledger counts ${record.bets}`,
      );
    }
    if (!sameStream(stream, { total: stored.rows, digest: stored.digest })) {
      return refuse(
        "conflict",
        `Cannot finish agency ${agency}: the ${stored.rows} bets stored under its id do not hash to the digest its hello announced (bets not of its file were stored in its name); its stream cannot be completed`,
      );
    }
    return null;
  }

  /**
   * The agency's stored rows, `bets` by the ledger: hashed as this worker
   * committed them when it committed them all, else read from bets.csv.
   * Hold the lock.
   */
  async #stored(agency: number, bets: number): Promise<StoredStream> {
    const digest = this.#digests.digest(agency, bets);
    if (digest !== null) return { rows: bets, digest };
    await this.#hashes.advance(this.#deps.ledger.betsSize);
    return this.#hashes.stored(agency);
  }

  /** The draw's summary (or `null`) and how many agencies have finished: one KV read. */
  progress(): Promise<Progress> {
    return this.#deps.state.progress();
  }

  /**
   * The committed draw, its winners file checked against the digest first
   * (see {@linkcode DrawKeeper.load}); `announce` writes its lines if its
   * maker died before.
   */
  loadDraw(summary: DrawSummary, announce: Announce): Promise<Draw> {
    return this.#draws.load(summary, announce);
  }

  /**
   * Makes the draw of the `agencies` agencies once across workers and
   * restarts, and calls `announce` once for it: see {@linkcode DrawKeeper.make}.
   */
  makeDraw(agencies: number, announce: Announce): Promise<DrawMade> {
    return this.#draws.make(agencies, announce);
  }

  /**
   * Start-up, before any worker runs: cuts bets.csv back to its committed
   * size (and a torn last ledger record), checks every committed row
   * against the MACs the ledger holds for it (one pass over bets.csv:
   * damage stops the start with a line naming the file, the agency and the
   * bytes), checks the KV counter and draw against the ledger (rebuilt
   * from it when they lag or were lost; the start is refused when KV holds
   * what the ledger does not), logs `storage_recovered`, and then settles
   * a draw the ledger holds (its winners file checked, its lines written
   * through `announce` if its maker died before). Throws, saying what is
   * wrong, when the files do not fit together.
   */
  async recover(announce: Announce): Promise<void> {
    const { lock, state, ledger, betsFile, log } = this.#deps;
    await lock.run(async () => {
      // Every check that can refuse the start comes before anything is cut:
      // a refused start leaves the storage as it found it.
      ledger.refresh({ cut: false });
      const committed = ledger.betsSize;
      const size = betsFile.statSync().size;
      if (ledger.created && size > 0) {
        // The ledger this start made goes too: the next start refuses alike.
        await Deno.remove(this.#path(LEDGER_FILE));
        throw new Error(
          `Cannot recover storage: bets.csv holds ${size} bytes but there is no ${LEDGER_FILE} (removed, or written by an older version); restore it, or move bets.csv away to start afresh`,
        );
      }
      if (size < committed) {
        throw new Error(
          `Cannot recover storage: bets.csv holds ${size} bytes but ${committed} are committed`,
        );
      }
      const started = performance.now();
      const { commits } = decodeLedgerRecords(
        await Deno.readFile(this.#path(LEDGER_FILE)),
      );
      await ledger.verifyBets(this.#path(BETS_FILE), BETS_FILE, commits);
      await this.#refuseStrayMarks();
      if (ledger.draw === null && await state.draw() !== null) {
        throw new Error(
          `Cannot recover storage: ${KV_FILE} holds a draw but ${LEDGER_FILE} does not; restore the storage directory as it was, or move it away to start afresh`,
        );
      }
      if (ledger.draw === null && this.#draws.hasWinnersFile()) {
        throw new Error(
          `Cannot recover storage: ${WINNERS_FILE} is there but ${LEDGER_FILE} holds no draw (cut back, or the file put there); restore the storage directory as it was, or move it away to start afresh`,
        );
      }
      this.#draws.checkRecord();
      // Only what was never acknowledged is cut: a torn ledger tail, rows
      // past the committed size.
      ledger.refresh();
      const cut = cutToCommitted(betsFile, committed);
      if (!cut.ok) throw new Error(`Cannot recover storage: ${cut.problem}`);
      await this.#draws.check();
      const verifyMs = performance.now() - started;
      const finished = await this.#checkCounter();
      log.info("storage_recovered", "success", {
        committed_bytes: committed,
        truncated_bytes: cut.cutBytes,
        ledger_truncated_bytes: ledger.cutBytes,
        verified_ms: verifyMs.toFixed(0),
        finished_agencies: finished,
        draw: ledger.draw === null ? "pending" : "done",
      });
      if (ledger.draw !== null) await this.#draws.settle(announce);
    });
  }

  /**
   * Refuses the start when KV marks an agency finished that the ledger
   * does not: then the files are not of one run.
   */
  async #refuseStrayMarks(): Promise<void> {
    const { state, ledger } = this.#deps;
    const inLedger = new Set(ledger.finishedAgencies());
    const marks = await state.finishedMarks();
    const stray = marks.agencies.find((id) => !inLedger.has(id));
    if (stray !== undefined) {
      throw new Error(
        `Cannot recover storage: ${KV_FILE} counts agency ${stray} as finished but ${LEDGER_FILE} does not; restore the storage directory as it was, or move it away to start afresh`,
      );
    }
  }

  /**
   * Compares KV's finished marks and count with the ledger's finished
   * agencies (a stray mark was refused before) and rebuilds them from the
   * ledger when they differ. Returns how many agencies have finished.
   */
  async #checkCounter(): Promise<number> {
    const { state, ledger, log } = this.#deps;
    const finished = ledger.finishedAgencies();
    const marks = await state.finishedMarks();
    if (
      marks.count !== finished.length ||
      marks.agencies.length !== finished.length
    ) {
      await state.rebuildFinished(finished);
      log.warning("finished_counter_rebuilt", "success", {
        finished_agencies: finished.length,
        counted_before: marks.count,
      });
    }
    return finished.length;
  }

  #path(name: string): string {
    return join(this.#deps.storageDir, name);
  }
}
