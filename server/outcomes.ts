/**
 * What becomes of each request the central serves, as plain values: the
 * vocabulary the store, the rules and the handlers share. It sits below all
 * three, so none of them imports another for its result types.
 *
 * @module
 */
import type { ErrorCodeName } from "../protocol/messages.ts";

/** A request the central refuses, with the protocol's error code. */
export interface Refusal {
  /** Tells a refusal from the other outcomes. */
  readonly status: "refused";
  /** The error code the answer carries. */
  readonly code: ErrorCodeName;
  /** The answer's message, `Cannot <action>: <state>`. */
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

/** What became of a proven hello: the stream is open, with `stored` of its bets held. */
export type OpenOutcome =
  | { readonly status: "open"; readonly stored: number }
  | Refusal;

/** No draw yet: how many agencies are still loading. */
export interface Pending {
  /** Tells a pending answer from a ready one. */
  readonly status: "pending";
  /** Agencies that have not finished yet. */
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

/** A refusal with `code` and `reason`. */
export function refuse(code: ErrorCodeName, reason: string): Refusal {
  return { status: "refused", code, reason };
}

/**
 * What a request read after a refusal on its connection gets: nothing
 * stored, no fail line (the refusal had one), no reply.
 */
export const DROPPED: Refusal = refuse(
  "internal",
  "Cannot serve request: it came after a refusal on its connection",
);

/**
 * The requests one connection sent, in order. Its first refusal closes the
 * connection, and every request it read after that one, even one already
 * handed to the store, is dropped: neither stored nor answered. Whoever
 * refuses a request marks it here ({@linkcode Pipeline.refuse}); the batch
 * writer checks it when it commits.
 */
export class Pipeline {
  #refusal: Refusal | null = null;

  /** The connection's first refusal, or `null`. */
  get refusal(): Refusal | null {
    return this.#refusal;
  }

  /** Records `refusal` (the first one counts) and returns it. */
  refuse(refusal: Refusal): Refusal {
    this.#refusal ??= refusal;
    return refusal;
  }
}
