import { join } from "node:path";
import type { ErrorCodeName } from "../protocol/messages.ts";
import type { ActionLog } from "../lib/log.ts";
import { BatchWriter, truncateToLedger } from "./store/batch_writer.ts";
import { drawWinners } from "./store/parallel_draw.ts";
import { BETS_FILE, type StorageRows } from "./store/bets_csv.ts";
import type { StorageLock } from "./store/storage_lock.ts";
import type { Ledger } from "./store/ledger.ts";
import type { DrawSummary, LotteryState } from "./store/lottery_state.ts";

/** The file the draw's winning documents are kept in, per agency. */
export const WINNERS_FILE = "winners.json";

/** How often a query held for a pending draw checks for it. */
export const DRAW_CHECK_MS = 20;

/** A request the central refuses, with the protocol's error code. */
export interface Refusal {
  readonly status: "refused";
  readonly code: ErrorCodeName;
  readonly reason: string;
}

/**
 * What became of a batch (or a single bet): `stored` bets were new and are
 * now stored; `skipped` had been stored before (a resend). A batch that was
 * entirely a resend is `duplicate`.
 */
export type StoreOutcome =
  | {
    readonly status: "stored";
    readonly stored: number;
    readonly skipped: number;
  }
  | { readonly status: "duplicate"; readonly skipped: number }
  | Refusal;

/** What became of a finish notification. */
export type FinishOutcome =
  | {
    readonly status: "finished";
    readonly first: boolean;
    readonly bets: number;
  }
  | Refusal;

/** No draw yet: how many agencies are still loading. */
export interface Pending {
  readonly status: "pending";
  readonly pendingAgencies: number;
}

/** The answer to a winners query. */
export type WinnersOutcome =
  | Pending
  | { readonly status: "ready"; readonly documents: readonly string[] }
  | Refusal;

/** The answer to a nationwide-total query. */
export type TotalOutcome =
  | Pending
  | { readonly status: "ready"; readonly total: number };

/** The draw, as kept for queries. */
interface DrawResult {
  readonly summary: DrawSummary;
  readonly winners: Readonly<Record<string, readonly string[]>>;
}

/** What {@linkcode Lottery} works with; opened and closed by the worker. */
export interface LotteryDeps {
  /** Serialises storage across workers and sessions. */
  readonly lock: StorageLock;
  /** The finished-agency counter and the draw, in KV. */
  readonly state: LotteryState;
  /** What each agency has stored; read and written under the lock. */
  readonly ledger: Ledger;
  /** bets.csv, open for appending. */
  readonly betsFile: Deno.FsFile;
  /** Where bets.csv and the winners file live. */
  readonly storageDir: string;
  /** How many agencies the draw waits for. */
  readonly agencies: number;
  /** Where `agencia_finalizada`, `sorteo` and the winners line go. */
  readonly log: ActionLog;
}

/**
 * The central's business rules, on plain values: store a batch exactly once
 * and durably, count an agency's finish once, make the draw once, answer
 * queries. It never sees a socket.
 *
 * Exactly once: every batch says where its first bet stands in the agency's
 * stream (`first`, from 0), and the ledger keeps how many of the agency's
 * bets are stored. Bets before that count are a resend and are skipped
 * (whatever batch size the resend uses); a batch that starts past it is
 * refused as a gap. A batch is committed when its rows are in bets.csv,
 * flushed, and a flushed ledger record holds both the agency's new count and
 * the new committed size of bets.csv (one record for the batches of a
 * group); the acknowledgement goes out after.
 * Bytes past the committed size belong to a batch whose writer died before
 * committing: they are cut off before the next write (and at start-up), and
 * the agency, never acknowledged, sends the batch again.
 */
export class Lottery {
  readonly #deps: LotteryDeps;
  readonly #writer: BatchWriter;
  #draw: DrawResult | null = null;
  #progress: ReturnType<LotteryState["progress"]> | null = null;
  #check: Promise<void> | null = null;

  /** @param deps the open resources and settings this lottery works with */
  constructor(deps: LotteryDeps) {
    this.#deps = deps;
    this.#writer = new BatchWriter(deps);
  }

  /** Agency ids run from 1 to `agencies`. */
  isKnownAgency(agency: number): boolean {
    return Number.isInteger(agency) && agency >= 1 &&
      agency <= this.#deps.agencies;
  }

  /**
   * Stores the rows of `agency` whose first bet is bet number `first` of
   * its stream, skipping what was stored before (a resend). A `null` first
   * (the single bet of the bet stage) is stored as it comes, with no
   * duplicate detection. Batches are committed in groups; see
   * {@linkcode BatchWriter}.
   */
  async store(
    agency: number,
    first: number | null,
    rows: StorageRows,
  ): Promise<StoreOutcome> {
    if (!this.isKnownAgency(agency)) return this.#unknownAgency(agency);
    return await this.#writer.store(agency, first, rows);
  }

  /** Bytes of batches waiting to be committed in this worker. */
  get backlogBytes(): number {
    return this.#writer.queuedBytes;
  }

  /**
   * Records that `agency` has sent all its `total` bets. Idempotent. When
   * the last agency finishes, the draw is made.
   */
  async finish(agency: number, total: number): Promise<FinishOutcome> {
    const { lock, state, ledger, agencies, log } = this.#deps;
    if (!this.isKnownAgency(agency)) return this.#unknownAgency(agency);
    const outcome = await lock.run(async () => {
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
      // them leaves the agency's next finish (it retries) to complete them.
      const counted = await state.countFinished(agency);
      return { status: "finished" as const, record, ...counted };
    });
    if (outcome.status === "refused") return outcome;
    if (outcome.first) {
      log.info("agencia_finalizada", "success", {
        agencia: agency,
        apuestas: outcome.record.bets + outcome.record.singles,
      });
    }
    if (outcome.finished >= agencies) await this.ensureDraw();
    return {
      status: "finished",
      first: outcome.first,
      bets: outcome.record.bets,
    };
  }

  /**
   * The winning documents of `agency`, or how many agencies are still
   * loading; while the draw is pending, waits up to `holdMs` for it (see
   * {@linkcode awaitDraw}).
   */
  async winners(agency: number, holdMs = 0): Promise<WinnersOutcome> {
    if (!this.isKnownAgency(agency)) return this.#unknownAgency(agency);
    const draw = await this.awaitDraw(holdMs);
    if ("status" in draw) return draw;
    return { status: "ready", documents: draw.winners[agency] ?? [] };
  }

  /**
   * The number of winners nationwide, or how many agencies are still
   * loading; while the draw is pending, waits up to `holdMs` for it.
   */
  async total(holdMs = 0): Promise<TotalOutcome> {
    const draw = await this.awaitDraw(holdMs);
    if ("status" in draw) return draw;
    return { status: "ready", total: draw.summary.total };
  }

  /**
   * {@linkcode ensureDraw}, waiting up to `holdMs` for a pending draw: it
   * checks again every {@linkcode DRAW_CHECK_MS}, and every query waiting
   * in this worker shares the check's timer and its KV read. An agency that
   * asks before the draw gets its partial answer up to `holdMs` later, or
   * the result as soon as the draw is made, instead of asking again many
   * times a second.
   */
  async awaitDraw(holdMs: number): Promise<DrawResult | Pending> {
    const deadline = performance.now() + holdMs;
    for (;;) {
      const draw = await this.ensureDraw(true);
      if (!("status" in draw) || performance.now() >= deadline) return draw;
      await this.#nextCheck();
    }
  }

  /** Settles at the next shared check, {@linkcode DRAW_CHECK_MS} from the first caller. */
  #nextCheck(): Promise<void> {
    return this.#check ??= new Promise((resolve) => {
      setTimeout(() => {
        this.#check = null;
        resolve();
      }, DRAW_CHECK_MS);
    });
  }

  /**
   * Returns the draw, making it first if every agency has finished and no
   * worker has made it yet; while agencies are still loading, how many. Only
   * the worker whose KV commit records the draw logs `sorteo`, so it is
   * logged once across workers; a draw is never made twice because the
   * check and the computation happen under the storage lock.
   */
  async ensureDraw(shared = false): Promise<DrawResult | Pending> {
    if (this.#draw !== null) return this.#draw;
    const { lock, state, ledger, agencies, log } = this.#deps;
    // One KV read answers the frequent case: agencies still loading. Held
    // queries checking at once share it (a finish reads afresh).
    const { draw: made, finished } =
      await (shared
        ? this.#progress ??= state.progress().finally(() => {
          this.#progress = null;
        })
        : state.progress());
    if (made !== null) return (this.#draw = await this.#readWinners(made));
    if (finished < agencies) {
      return { status: "pending", pendingAgencies: agencies - finished };
    }
    return await lock.run(async () => {
      const again = await state.draw();
      if (again !== null) return (this.#draw = await this.#readWinners(again));
      ledger.refresh();
      const refusal = truncateToLedger(this.#deps.betsFile, ledger.betsSize);
      if (refusal !== null) throw new Error(refusal.reason);
      const started = performance.now();
      const winners: Record<string, string[]> = {};
      for (let id = 1; id <= agencies; id++) winners[id] = [];
      for (
        const [agency, documents] of await drawWinners(this.#path(BETS_FILE))
      ) {
        (winners[agency] ??= []).push(...documents);
      }
      const perAgency: Record<string, number> = {};
      let total = 0;
      for (const [id, documents] of Object.entries(winners)) {
        perAgency[id] = documents.length;
        total += documents.length;
      }
      await this.#writeWinners(winners);
      const summary: DrawSummary = { total, perAgency };
      if (await state.commitDraw(summary)) {
        log.info("sorteo", "success");
        const fields: Record<string, number> = {};
        for (const [id, n] of Object.entries(perAgency)) {
          fields[`agencia_${id}`] = n;
        }
        log.info("ganadores_por_agencia", "success", {
          ...fields,
          total,
          duracion_ms: (performance.now() - started).toFixed(1),
        });
        return (this.#draw = { summary, winners });
      }
      const committed = await state.draw();
      return (this.#draw = await this.#readWinners(committed ?? summary));
    });
  }

  #unknownAgency(agency: number): Refusal {
    return refuse(
      "unknownAgency",
      `Cannot serve agency ${agency}: agencies are numbered 1 to ${this.#deps.agencies}`,
    );
  }

  #path(name: string): string {
    return join(this.#deps.storageDir, name);
  }

  async #writeWinners(winners: Record<string, string[]>): Promise<void> {
    const path = this.#path(WINNERS_FILE);
    const temporary = `${path}.tmp`;
    {
      await using file = await Deno.open(temporary, {
        write: true,
        create: true,
        truncate: true,
      });
      let bytes = new TextEncoder().encode(JSON.stringify(winners));
      while (bytes.length > 0) bytes = bytes.subarray(await file.write(bytes));
      await file.syncData();
    }
    await Deno.rename(temporary, path);
  }

  async #readWinners(summary: DrawSummary): Promise<DrawResult> {
    const text = await Deno.readTextFile(this.#path(WINNERS_FILE));
    return { summary, winners: JSON.parse(text) };
  }
}

function refuse(code: ErrorCodeName, reason: string): Refusal {
  return { status: "refused", code, reason };
}
