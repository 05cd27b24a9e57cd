/**
 * The fail lines of connections that never proved an agency, with a bound
 * on how many a burst of them writes.
 *
 * It is not `lib/log_throttle.ts`'s ThrottledLog, which repeats one line
 * per action with a count: here each attempt is a different peer with its
 * own reason, so the first few of a window are written whole and the rest
 * summed up by peer, which a count of one action's lines cannot say.
 *
 * @module
 */
import type { ActionLog } from "../../lib/log.ts";
import { Timer } from "../../lib/timer.ts";

/** The window over which failed attempts are counted. */
export const FAILURE_WINDOW_MS = 10_000;
/** Failed attempts logged one line each per window; the rest are summed up. */
export const FAILURE_LINES = 20;
/** Peer addresses a summary line names (it counts them all). */
const NAMED_PEERS = 5;
/** Distinct peers a window keeps count of: memory stays bounded in a flood. */
const COUNTED_PEERS = 10_000;

/** Settings and seams of a {@linkcode FailureLog}. */
export interface FailureLogOptions {
  /** The window (default {@linkcode FAILURE_WINDOW_MS}). */
  readonly windowMs?: number;
  /** Lines per window (default {@linkcode FAILURE_LINES}). */
  readonly lines?: number;
  /** The clock, in ms (default `performance.now`). */
  readonly now?: () => number;
}

/**
 * Logs a failed attempt (a wrong or missing proof, a malformed or silent
 * handshake, …) as its own fail line naming the peer and the reason, up to
 * `lines` per window; past that it only counts them, and writes one
 * `failed_attempts` line when the window ends: how many were left out,
 * from how many peers, some of their addresses, and the last reason. So a
 * flood of bad peers costs a line or two a window, not one per attempt.
 */
export class FailureLog implements Disposable {
  readonly #log: ActionLog;
  readonly #windowMs: number;
  readonly #lines: number;
  readonly #now: () => number;
  #windowStart = -Infinity;
  #logged = 0;
  #suppressed = 0;
  readonly #peers = new Set<string>();
  #lastError = "";
  #timer: Timer | null = null;

  /**
   * @param log where the lines go
   * @param options the window, lines per window and clock
   */
  constructor(log: ActionLog, options: FailureLogOptions = {}) {
    this.#log = log;
    this.#windowMs = options.windowMs ?? FAILURE_WINDOW_MS;
    this.#lines = options.lines ?? FAILURE_LINES;
    this.#now = options.now ?? (() => performance.now());
  }

  /** One failed attempt of the peer at `ip`: `action` failed with `error`. */
  report(action: string, ip: string, error: string): void {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.flush();
      this.#windowStart = now;
      this.#logged = 0;
    }
    if (this.#logged < this.#lines) {
      this.#logged++;
      this.#log.error(action, "fail", { ip, error });
      return;
    }
    this.#suppressed++;
    if (this.#peers.size < COUNTED_PEERS) this.#peers.add(ip);
    this.#lastError = error;
    this.#timer ??= new Timer(
      this.#windowStart + this.#windowMs - now,
      () => {
        this.#timer = null;
        this.flush();
      },
    );
  }

  /** Writes the summary of the attempts left out so far, if any. */
  flush(): void {
    this.#timer?.cancel();
    this.#timer = null;
    if (this.#suppressed === 0) return;
    const peers = [...this.#peers];
    this.#log.error("failed_attempts", "fail", {
      suppressed: this.#suppressed,
      peers: peers.length,
      ips: peers.slice(0, NAMED_PEERS).join(", "),
      window_ms: this.#windowMs,
      last_error: this.#lastError,
    });
    this.#suppressed = 0;
    this.#peers.clear();
  }

  /** Writes the pending summary and stops the timer. Idempotent. */
  [Symbol.dispose](): void {
    this.flush();
  }
}
