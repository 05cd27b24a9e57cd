/**
 * The one storage interface the rules ({@linkcode Lottery}) use, and that
 * each backend implements: the file store (`store.ts`, this folder: one
 * host) and the PostgreSQL store (`../postgres/`: several centrals on one
 * replicated database). Whichever it is owns every durable fact: each
 * agency's stream, its stored bets, its finish, and the draw.
 *
 * @module
 */
import type { OpenOutcome, Refusal, StoreOutcome } from "../outcomes.ts";
import type { StorageRows } from "../../lib/bet_row.ts";
import type { Pipeline } from "../outcomes.ts";
import type { AgencyRecord, StreamIdentity } from "./ledger_record.ts";
import type { Announce, Draw, DrawMade } from "./draw_keeper.ts";
import type { DrawSummary } from "./lottery_state.ts";

export type { Announce, Draw, DrawMade, DrawSummary, StreamIdentity };

/** An agency's finish, once recorded and counted. */
export interface Finished {
  /** Tells a finish from a refusal. */
  readonly status: "finished";
  /** The agency's record, finished. */
  readonly record: AgencyRecord;
  /** How many agencies have finished. */
  readonly finished: number;
  /** True if this call was the one that counted the agency. */
  readonly first: boolean;
}

/** What the store holds of the draw's progress: one cheap read. */
export interface Progress {
  /** The draw's summary, or `null` while it is not made. */
  readonly draw: DrawSummary | null;
  /** How many agencies have finished. */
  readonly finished: number;
}

/**
 * The central's durable state, as the rules see it. Every guarantee is the
 * backend's: each bet stored once per (agency, position) whatever resends
 * and crashes come; a batch acknowledged only once the commit that holds it
 * is durable; a finish counted once; the draw made once, and its `sorteo`
 * line announced once, across every worker and every central sharing the
 * store.
 */
export interface StorageBackend {
  /**
   * Opens the stream a proven connection of `agency` announced: `conflict`
   * if another stream is held for it; otherwise how many of its bets are
   * stored.
   */
  openStream(agency: number, stream: StreamIdentity): Promise<OpenOutcome>;

  /**
   * Stores the rows of `agency` from its bet number `first` on, exactly
   * once: bets already stored are skipped (a resend), a batch past the
   * stored count is a gap, a stream other than the agency's a `conflict`,
   * and nothing is stored after a refusal recorded in `pipeline`. Settles
   * once the commit holding the rows is durable.
   */
  store(
    agency: number,
    first: number,
    rows: StorageRows,
    pipeline: Pipeline,
    stream: StreamIdentity | null,
  ): Promise<StoreOutcome>;

  /** Bytes of batches waiting to be committed in this process. */
  readonly backlogBytes: number;

  /**
   * Records that `agency` has sent all its `total` bets, whose rows hash to
   * `digest`: `incomplete` while another count is stored, `conflict`
   * unless the stored rows hash to `digest`. Idempotent.
   */
  finish(
    agency: number,
    total: number,
    digest: Uint8Array,
  ): Promise<Finished | Refusal>;

  /** The draw's summary (or `null`) and how many agencies have finished. */
  progress(): Promise<Progress>;

  /** The committed draw of `summary`; `announce` writes its lines if nobody did. */
  loadDraw(summary: DrawSummary, announce: Announce): Promise<Draw>;

  /**
   * Makes the draw of the `agencies` agencies once across every process
   * sharing the store, and calls `announce` once for it in the system's life.
   */
  makeDraw(agencies: number, announce: Announce): Promise<DrawMade>;

  /**
   * Start-up, before the central serves: brings the store to a checked,
   * consistent state (throws, saying what is wrong, when it cannot), and
   * settles a draw whose maker died before announcing it.
   */
  recover(announce: Announce): Promise<void>;
}
