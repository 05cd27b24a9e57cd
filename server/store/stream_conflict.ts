/**
 * The one rule of stream identity: an agency's bets belong to the first
 * stream it announced; another `(total, digest)` is a different file under
 * the same id.
 *
 * @module
 */
import { type Refusal, refuse } from "../outcomes.ts";
import type { StreamIdentity } from "./ledger_record.ts";

/**
 * The `conflict` refusal when `agency` announces `announced` but the
 * ledger holds `known` for it; `null` when they are the same stream or
 * none is known yet.
 */
export function streamConflict(
  agency: number,
  announced: StreamIdentity,
  known: StreamIdentity | null,
): Refusal | null {
  if (known === null || sameStream(known, announced)) return null;
  return refuse(
    "conflict",
    `Cannot open agency ${agency}'s stream: it announces ${announced.total} bets with digest ${
      hex(announced.digest).slice(0, 16)
    }…, the central holds a stream of ${known.total} bets with digest ${
      hex(known.digest).slice(0, 16)
    }… for it (a different file under the same id)`,
  );
}

/** True if `a` and `b` are the same stream: the same total and digest. */
export function sameStream(a: StreamIdentity, b: StreamIdentity): boolean {
  return a.total === b.total && a.digest.length === b.digest.length &&
    a.digest.every((byte, i) => byte === b.digest[i]);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
