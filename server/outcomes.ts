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

/** What became of a proven hello: the stream is open, with `stored` of its bets held. */
export type OpenOutcome =
  | { readonly status: "open"; readonly stored: number }
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

/** A refusal with `code` and `reason`. */
export function refuse(code: ErrorCodeName, reason: string): Refusal {
  return { status: "refused", code, reason };
}
