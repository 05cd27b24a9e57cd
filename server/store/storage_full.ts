/**
 * A full disk, told apart from other storage failures.
 *
 * @module
 */
import { type Refusal, refuse } from "../outcomes.ts";

/** Error codes of a write the filesystem has no room (or quota) for. */
const FULL_CODES: ReadonlySet<string> = new Set(["ENOSPC", "EDQUOT"]);

/**
 * The `busy` refusal owed for `error` when it says the storage is full
 * (a file write, or SQLite under Deno KV), else `null`. `busy` tells the
 * agency to send the request again after a pause; nothing of it was
 * stored.
 */
export function storageFullRefusal(error: unknown): Refusal | null {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const full = (typeof code === "string" && FULL_CODES.has(code)) ||
    /no space left on device|database or disk is full|quota exceeded/i.test(
      message,
    );
  if (!full) return null;
  return refuse(
    "busy",
    `Cannot store: the central's storage is full (${message}); try again later`,
  );
}
