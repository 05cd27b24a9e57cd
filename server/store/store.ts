/**
 * The one owner of the central's durable state, behind the interface
 * {@linkcode Store} that the rules use. Each fact has one source of truth:
 *
 * - which stream each agency announced (its total and digest), what it
 *   stored and whether it finished: the ledger (`ledger.bin`), with the
 *   committed size of bets.csv;
 * - the bets: bets.csv up to that committed size (bytes past it are cut
 *   off: {@linkcode cutToCommitted});
 * - the draw: the winners file (`winners.json`), served only if it matches
 *   the digest committed with the draw's summary in KV.
 *
 * The finished-agency counter in Deno KV (`central.kv`) repeats what the
 * ledger says, for the workers to see cheaply whether the draw is due; it
 * is checked against the ledger at start-up ({@linkcode Store.recover}).
 * Every change happens under the storage lock.
 *
 * @module
 */
import { join } from "node:path";
import type { ActionLog } from "../../lib/log.ts";
import {
  type OpenOutcome,
  type Refusal,
  refuse,
  type StoreOutcome,
} from "../outcomes.ts";
import { BatchWriter } from "./batch_writer.ts";
import { BETS_FILE, cutToCommitted } from "./bets_csv.ts";
import type { Ledger } from "./ledger.ts";
import type { AgencyRecord, StreamIdentity } from "./ledger_record.ts";
import { streamConflict } from "./stream_conflict.ts";
import type { DrawSummary, LotteryState } from "./lottery_state.ts";
import { drawWinners } from "./parallel_draw.ts";
import type { StorageLock } from "./storage_lock.ts";
import { storageFullRefusal } from "./storage_full.ts";

/** The lockfile every worker locks around storage, in the storage directory. */
export const LOCK_FILE = "central.lock";
/** The Deno KV file, in the storage directory. */
export const KV_FILE = "central.kv";
/** The ledger (what each agency has stored), in the storage directory. */
export const LEDGER_FILE = "ledger.bin";
/** The file the draw's winning documents are kept in, per agency. */
export const WINNERS_FILE = "winners.json";

/** The open handles a {@linkcode Store} works with; `main` opens and closes them. */
export interface StoreDeps {
  /** Serialises storage across workers and sessions. */
  readonly lock: StorageLock;
  /** The finished-agency counter and the draw's summary, in KV. */
  readonly state: LotteryState;
  /** What each agency has stored; read and written under the lock. */
  readonly ledger: Ledger;
  /** bets.csv, open for appending. */
  readonly betsFile: Deno.FsFile;
  /** Where bets.csv and the winners file live. */
  readonly storageDir: string;
  /** Where `storage_recovered` and a repaired file's line go. */
  readonly log: ActionLog;
}

/** The draw, as kept for queries. */
export interface Draw {
  /** Its counts and the winners file's digest. */
  readonly summary: DrawSummary;
  /** The winning documents per agency id, every agency listed. */
  readonly winners: Readonly<Record<string, readonly string[]>>;
}

/** An agency's finish, once recorded in the ledger and counted in KV. */
export interface Finished {
  readonly status: "finished";
  /** The agency's record, finished. */
  readonly record: AgencyRecord;
  /** How many agencies have finished. */
  readonly finished: number;
  /** True if this call was the one that counted the agency. */
  readonly first: boolean;
}

/** What {@linkcode Store.makeDraw} did. */
export interface DrawMade {
  /** The draw. */
  readonly draw: Draw;
  /** True if this call made it (false: it was made before). */
  readonly made: boolean;
  /** How long making it took, from the scan of bets.csv on. */
  readonly ms: number;
}

/** The central's durable state: every read and write of it goes through here. */
export class Store {
  readonly #deps: StoreDeps;
  /** Made at the first batch: recovery, in the supervisor, needs none. */
  #writer: BatchWriter | null = null;

  /** @param deps the open handles this store works with */
  constructor(deps: StoreDeps) {
    this.#deps = deps;
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
    this.#writer ??= new BatchWriter(this.#deps);
    return this.#writer.store(...batch);
  }

  /** Bytes of batches waiting to be committed in this worker. */
  get backlogBytes(): number {
    return this.#writer?.queuedBytes ?? 0;
  }

  /**
   * Records that `agency` has sent all its `total` bets (refused while the
   * ledger holds another count), then counts it in KV. Idempotent. On a
   * full disk it is refused `busy` (logged as `storage_write`), and the
   * agency sends it again.
   */
  async finish(agency: number, total: number): Promise<Finished | Refusal> {
    try {
      return await this.#finish(agency, total);
    } catch (error) {
      const full = storageFullRefusal(error);
      if (full === null) throw error;
      this.#deps.log.error("storage_write", "fail", { error: full.reason });
      return full;
    }
  }

  async #finish(agency: number, total: number): Promise<Finished | Refusal> {
    const { lock, state, ledger } = this.#deps;
    return await lock.run(async () => {
      ledger.refresh();
      let record = ledger.record(agency);
      if (!record.finished && record.bets !== total) {
        return refuse(
          "incomplete",
          `Cannot finish agency ${agency}: it announced ${total} bets, ${record.bets} are stored`,
        );
      }
      if (!record.finished) {
        record = { ...record, finished: true };
        await ledger.commit(new Map([[agency, record]]), ledger.betsSize);
      }
      // The ledger refuses the agency's bets from now on; KV counts it for
      // the draw. Both steps are idempotent, so a worker that dies between
      // them leaves the agency's next finish (it retries), or the next
      // start-up, to complete them.
      const counted = await state.countFinished(agency);
      return { status: "finished" as const, record, ...counted };
    });
  }

  /** The draw's summary (or `null`) and how many agencies have finished: one KV read. */
  progress(): Promise<{ draw: DrawSummary | null; finished: number }> {
    return this.#deps.state.progress();
  }

  /**
   * The committed draw, its winners file checked against the digest first.
   * A file that does not match is made again from bets.csv; if that does
   * not match either, throws.
   */
  async loadDraw(summary: DrawSummary): Promise<Draw> {
    return await this.#verified(summary) ??
      await this.#deps.lock.run(() => this.#loadLocked(summary));
  }

  /**
   * Makes the draw of the `agencies` agencies if it was not made yet: under
   * the lock, scans the committed bets.csv, writes the winners file and
   * commits its summary in KV, so that it is made once across workers.
   */
  async makeDraw(agencies: number): Promise<DrawMade> {
    const { lock, state } = this.#deps;
    return await lock.run(async () => {
      const made = await state.draw();
      if (made !== null) {
        return { draw: await this.#loadLocked(made), made: false, ms: 0 };
      }
      const started = performance.now();
      const ids = Array.from({ length: agencies }, (_, i) => String(i + 1));
      const { draw, bytes } = await this.#scanDraw(ids);
      await this.#writeWinnersFile(bytes);
      if (await state.commitDraw(draw.summary)) {
        return { draw, made: true, ms: performance.now() - started };
      }
      const committed = await state.draw();
      return {
        draw: await this.#loadLocked(committed ?? draw.summary),
        made: false,
        ms: 0,
      };
    });
  }

  /** The draw if its winners file matches `summary`'s digest, else `null`. */
  async #verified(summary: DrawSummary): Promise<Draw | null> {
    const bytes = await this.#readWinnersFile();
    if (bytes === null || await sha256(bytes) !== summary.digest) return null;
    return { summary, winners: JSON.parse(decoder.decode(bytes)) };
  }

  /** {@linkcode loadDraw} with the lock held. */
  async #loadLocked(summary: DrawSummary): Promise<Draw> {
    return await this.#verified(summary) ?? await this.#repairDraw(summary);
  }

  /**
   * Start-up, before any worker runs: cuts bets.csv back to its committed
   * size (and a torn last ledger record), checks the KV counter against
   * the ledger (rebuilt from it when it lags or was lost; the start is
   * refused when KV counts an agency the ledger does not), checks the
   * winners file of a committed draw, and logs `storage_recovered`.
   * Throws, saying what is wrong, when the files do not fit together.
   */
  async recover(): Promise<void> {
    const { lock, state, ledger, betsFile, log } = this.#deps;
    await lock.run(async () => {
      ledger.refresh();
      const committed = ledger.betsSize;
      const size = betsFile.statSync().size;
      if (ledger.created && size > 0) {
        throw new Error(
          `Cannot recover storage: bets.csv holds ${size} bytes but there is no ${LEDGER_FILE} (removed, or written by an older version); restore it, or move bets.csv away to start afresh`,
        );
      }
      const cut = cutToCommitted(betsFile, committed);
      if (!cut.ok) throw new Error(`Cannot recover storage: ${cut.problem}`);
      const finished = await this.#checkCounter();
      const draw = await state.draw();
      if (draw !== null) await this.#loadLocked(draw);
      log.info("storage_recovered", "success", {
        committed_bytes: committed,
        truncated_bytes: cut.cutBytes,
        finished_agencies: finished,
        draw: draw === null ? "pending" : "done",
      });
    });
  }

  /**
   * Compares KV's finished marks and count with the ledger's finished
   * agencies; rebuilds them from the ledger when they differ, unless KV
   * marks an agency the ledger does not (then the files are not of one
   * run). Returns how many agencies have finished.
   */
  async #checkCounter(): Promise<number> {
    const { state, ledger, log } = this.#deps;
    const finished = ledger.finishedAgencies();
    const marks = await state.finishedMarks();
    const inLedger = new Set(finished);
    const stray = marks.agencies.find((id) => !inLedger.has(id));
    if (stray !== undefined) {
      throw new Error(
        `Cannot recover storage: ${KV_FILE} counts agency ${stray} as finished but ${LEDGER_FILE} does not; restore the storage directory as it was, or move it away to start afresh`,
      );
    }
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

  /**
   * Makes the winners file of a committed draw again from bets.csv; hold
   * the lock. Throws if the result does not match the committed digest.
   */
  async #repairDraw(summary: DrawSummary): Promise<Draw> {
    const ids = Object.keys(summary.perAgency);
    const { draw, bytes } = await this.#scanDraw(ids);
    if (draw.summary.digest !== summary.digest) {
      throw new Error(
        `Cannot serve the draw: ${WINNERS_FILE} does not match the committed draw, and neither does a new scan of bets.csv`,
      );
    }
    await this.#writeWinnersFile(bytes);
    this.#deps.log.warning("winners_file_rebuilt", "success", {
      total: summary.total,
    });
    return { summary, winners: draw.winners };
  }

  /**
   * The draw from the committed bets.csv: the winning documents of each of
   * the agencies `ids`, and the winners file's bytes. Hold the lock.
   */
  async #scanDraw(
    ids: readonly string[],
  ): Promise<{ draw: Draw; bytes: Uint8Array }> {
    const { ledger, betsFile } = this.#deps;
    ledger.refresh();
    const cut = cutToCommitted(betsFile, ledger.betsSize);
    if (!cut.ok) throw new Error(`Cannot make the draw: ${cut.problem}`);
    const winners: Record<string, string[]> = {};
    for (const id of ids) winners[id] = [];
    // Each agency appears once in the scan's map: its list is taken as it
    // is (an agency may have more winners than a call takes arguments).
    for (
      const [agency, documents] of await drawWinners(this.#path(BETS_FILE))
    ) {
      winners[agency] = documents;
    }
    const perAgency: Record<string, number> = {};
    let total = 0;
    for (const [id, documents] of Object.entries(winners)) {
      perAgency[id] = documents.length;
      total += documents.length;
    }
    const bytes = encoder.encode(JSON.stringify(winners));
    const summary: DrawSummary = {
      total,
      perAgency,
      digest: await sha256(bytes),
    };
    return { draw: { summary, winners }, bytes };
  }

  #path(name: string): string {
    return join(this.#deps.storageDir, name);
  }

  async #readWinnersFile(): Promise<Uint8Array | null> {
    try {
      return await Deno.readFile(this.#path(WINNERS_FILE));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  }

  /** Writes the winners file whole or not at all: a flushed temporary, renamed. */
  async #writeWinnersFile(bytes: Uint8Array): Promise<void> {
    const path = this.#path(WINNERS_FILE);
    const temporary = `${path}.tmp`;
    {
      await using file = await Deno.open(temporary, {
        write: true,
        create: true,
        truncate: true,
      });
      let rest = bytes;
      while (rest.length > 0) rest = rest.subarray(await file.write(rest));
      await file.syncData();
    }
    await Deno.rename(temporary, path);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** SHA-256 of `bytes`, in hex. */
async function sha256(bytes: Uint8Array): Promise<string> {
  return hex(
    new Uint8Array(
      await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
    ),
  );
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
