/**
 * The central's rules: which agencies exist, when the draw is due, and
 * what each request gets; on plain values, through the store.
 *
 * @module
 */
import type { ActionLog } from "../lib/log.ts";
import {
  type FinishOutcome,
  type OpenOutcome,
  type Pending,
  Pipeline,
  type Refusal,
  refuse,
  type StoreOutcome,
  type TotalOutcome,
  type WinnersOutcome,
} from "./outcomes.ts";
import type { StorageRows } from "../lib/bet_row.ts";
import type { StreamIdentity } from "./store/ledger_record.ts";
import type { Draw, StorageBackend } from "./store/backend.ts";

export type {
  FinishOutcome,
  OpenOutcome,
  Pending,
  Refusal,
  StoreOutcome,
  TotalOutcome,
  WinnersOutcome,
};

/** How often a query held for a pending draw checks for it. */
export const DRAW_CHECK_MS = 20;

/** What {@linkcode Lottery} works with; opened and closed by the worker. */
export interface LotteryDeps {
  /** The storage backend: the file store or the PostgreSQL store. */
  readonly store: StorageBackend;
  /** How many agencies the draw waits for. */
  readonly agencies: number;
  /** Where `agencia_finalizada`, `sorteo` and the winners line go. */
  readonly log: ActionLog;
}

/**
 * The central's business rules, on plain values: store a batch exactly once
 * and durably, count an agency's finish once, make the draw once, answer
 * queries. It never sees a socket, nor a file: its
 * {@linkcode StorageBackend} keeps everything durable.
 *
 * Exactly once: every batch says where its first bet stands in the agency's
 * stream (`first`, from 0), and the ledger keeps how many of the agency's
 * bets are stored. Bets before that count are a resend and are skipped
 * (whatever batch size the resend uses); a batch that starts past it is
 * refused as a gap. A batch is acknowledged once the store has committed
 * it; a batch it did not commit was never acknowledged, and the agency
 * sends it again.
 */
export class Lottery {
  readonly #deps: LotteryDeps;
  readonly #store: StorageBackend;
  #draw: Draw | null = null;
  #progress: ReturnType<StorageBackend["progress"]> | null = null;
  #settling: Promise<Draw> | null = null;
  #check: Promise<void> | null = null;

  /**
   * A lottery on the store, draw and settings in `deps`.
   *
   * @param deps the open resources and settings this lottery works with
   */
  constructor(deps: LotteryDeps) {
    this.#deps = deps;
    this.#store = deps.store;
  }

  /** Agency ids run from 1 to `agencies`. */
  isKnownAgency(agency: number): boolean {
    return Number.isInteger(agency) && agency >= 1 &&
      agency <= this.#deps.agencies;
  }

  /**
   * Opens the stream (`total` bets whose rows hash to `digest`) of a
   * connection that proved it speaks for `agency`: refused for an unknown
   * agency, or as `conflict` when the agency announced another stream
   * before; otherwise how many of its bets are stored. See
   * {@linkcode StorageBackend.openStream}.
   */
  async open(
    agency: number,
    total: number,
    digest: Uint8Array,
  ): Promise<OpenOutcome> {
    if (!this.isKnownAgency(agency)) return this.#unknownAgency(agency);
    return await this.#store.openStream(agency, { total, digest });
  }

  /**
   * Stores the rows of `agency` whose first bet is bet number `first` of
   * its stream, skipping what was stored before (a resend); the single bet
   * of the bet stage is bet 0 of a stream of 1. Batches are committed in
   * groups; see {@linkcode StorageBackend.store}. After a refusal recorded in
   * `pipeline` (the connection's), nothing of it is stored. `stream` is
   * the one the connection's hello announced: rows of another stream than
   * the agency's are a `conflict`.
   */
  async store(
    agency: number,
    first: number,
    rows: StorageRows,
    pipeline: Pipeline = new Pipeline(),
    stream: StreamIdentity | null = null,
  ): Promise<StoreOutcome> {
    if (!this.isKnownAgency(agency)) {
      return pipeline.refuse(this.#unknownAgency(agency));
    }
    return await this.#store.store(agency, first, rows, pipeline, stream);
  }

  /** Bytes of batches waiting to be committed in this worker. */
  get backlogBytes(): number {
    return this.#store.backlogBytes;
  }

  /**
   * Records that `agency` has sent all its `total` bets, whose rows hash to
   * `digest` (its hello's): refused unless the stored rows do (see
   * {@linkcode StorageBackend.finish}). Idempotent. When the last agency finishes,
   * the draw is made.
   */
  async finish(
    agency: number,
    total: number,
    digest: Uint8Array,
  ): Promise<FinishOutcome> {
    const { agencies, log } = this.#deps;
    if (!this.isKnownAgency(agency)) return this.#unknownAgency(agency);
    const outcome = await this.#store.finish(agency, total, digest);
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
  async awaitDraw(holdMs: number): Promise<Draw | Pending> {
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
   * Start-up, before any worker runs: see {@linkcode StorageBackend.recover}. A draw
   * whose maker died before writing its lines gets them now.
   */
  async recover(): Promise<void> {
    await this.#store.recover(this.#announce);
  }

  /**
   * Returns the draw, making it first if every agency has finished and no
   * worker has made it yet; while agencies are still loading, how many. The
   * store makes a draw once and writes its `sorteo` line once in the
   * system's life, through {@linkcode Lottery.#announce} (see
   * {@linkcode StorageBackend.makeDraw}).
   */
  async ensureDraw(shared = false): Promise<Draw | Pending> {
    if (this.#draw !== null) return this.#draw;
    const { agencies } = this.#deps;
    // One KV read answers the frequent case: agencies still loading. Held
    // queries checking at once share it (a finish reads afresh).
    const { draw: made, finished } =
      await (shared
        ? this.#progress ??= this.#store.progress().finally(() => {
          this.#progress = null;
        })
        : this.#store.progress());
    // A draw made or loaded while this read was under way serves it.
    if (this.#draw !== null) return this.#draw;
    if (made === null && finished < agencies) {
      return { status: "pending", pendingAgencies: agencies - finished };
    }
    // One load or make at a time: the queries held for the draw, answered
    // at once when it comes, share it instead of each reading the winners.
    return await (this.#settling ??=
      (made !== null
        ? this.#store.loadDraw(made, this.#announce)
        : this.#store.makeDraw(agencies, this.#announce).then((m) => m.draw))
        .then((draw) => (this.#draw = draw))
        .finally(() => {
          this.#settling = null;
        }));
  }

  /**
   * The draw's lines: `sorteo`, then the winners per agency and how long
   * the draw took (left out when written late, at a later start-up or by
   * another worker, its maker having died before writing them).
   */
  readonly #announce = (draw: Draw, ms: number | null): void => {
    const { log } = this.#deps;
    log.info("sorteo", "success");
    const fields: Record<string, number | string> = {};
    for (const [id, n] of Object.entries(draw.summary.perAgency)) {
      fields[`agencia_${id}`] = n;
    }
    log.info("ganadores_por_agencia", "success", {
      ...fields,
      total: draw.summary.total,
      ...(ms === null ? {} : { duracion_ms: ms.toFixed(1) }),
    });
  };

  #unknownAgency(agency: number): Refusal {
    return refuse(
      "unknownAgency",
      `Cannot serve agency ${agency}: agencies are numbered 1 to ${this.#deps.agencies}`,
    );
  }
}
