/**
 * The exactly-once rule for one batch, shared by both backends' group
 * commits: where the batch's bets stand against what the agency has
 * stored.
 *
 * @module
 */
import { type Pipeline, refuse, type StoreOutcome } from "../outcomes.ts";

/**
 * How many of a batch's `count` bets, the first of them bet `first` of
 * `agency`'s stream, are a resend to skip, given the agency's `stored`
 * count and whether it `finished`; or what becomes of the batch instead:
 * `duplicate` when all of it is stored, refused when the agency has
 * finished or the batch starts past the stored count (a gap).
 */
export function batchPlace(
  agency: number,
  first: number,
  count: number,
  stored: number,
  finished: boolean,
): number | StoreOutcome {
  const skipped = Math.min(count, Math.max(0, stored - first));
  if (skipped === count) return { status: "duplicate", skipped };
  if (finished) {
    return refuse(
      "agencyFinished",
      `Cannot store bets: agency ${agency} has already finished`,
    );
  }
  if (first > stored) {
    return refuse(
      "outOfOrder",
      `Cannot store bets from position ${first}: agency ${agency} has ${stored} stored`,
    );
  }
  return skipped;
}

/**
 * Hands each batch of a committed (or failed) group its outcome, in order;
 * a refusal also stops the rest of that batch's connection's requests.
 */
export function settleGroup(
  group: readonly {
    readonly pipeline: Pipeline;
    readonly resolve: (outcome: StoreOutcome) => void;
  }[],
  outcomes: readonly StoreOutcome[],
): void {
  for (const [i, queued] of group.entries()) {
    const outcome = outcomes[i]!;
    if (outcome.status === "refused") queued.pipeline.refuse(outcome);
    queued.resolve(outcome);
  }
}
