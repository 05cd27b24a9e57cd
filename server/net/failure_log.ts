/**
 * The fail lines of connections that never proved an agency, with a bound
 * on how many a burst of them writes; its window budget, LineBudget, also
 * bounds the accept loop's per-connection lines.
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

/** Settings and seams of a {@linkcode FailureLog} or {@linkcode LineBudget}. */
export interface FailureLogOptions {
  /** The window (default {@linkcode FAILURE_WINDOW_MS}). */
  readonly windowMs?: number;
  /** Lines per window (default {@linkcode FAILURE_LINES}). */
  readonly lines?: number;
  /** The clock, in ms (default `performance.now`). */
  readonly now?: () => number;
}

/** What a window's {@linkcode LineBudget} left out, for its summary line. */
export interface LeftOut {
  /** Lines left out. */
  readonly suppressed: number;
  /** Distinct peers among them (up to the count kept). */
  readonly peers: number;
  /** Some of their addresses, comma-separated. */
  readonly ips: string;
  /** The window's length. */
  readonly windowMs: number;
  /** The detail of the last one left out. */
  readonly last: string;
}

/**
 * A budget of per-peer lines: up to `lines` per window are written whole
 * (the caller writes them when {@linkcode LineBudget.take} says so); past
 * that they are only counted, and `summarise` writes one line for them
 * when the window ends. So a flood of peers costs a line or two a window,
 * not one per peer.
 */
export class LineBudget implements Disposable {
  readonly #summarise: (left: LeftOut) => void;
  readonly #windowMs: number;
  readonly #lines: number;
  readonly #now: () => number;
  #windowStart = -Infinity;
  #logged = 0;
  #suppressed = 0;
  readonly #peers = new Set<string>();
  #last = "";
  #timer: Timer | null = null;

  /**
   * A budget with a fresh window.
   *
   * @param summarise writes the summary of a window's lines left out
   * @param options the window, lines per window and clock
   */
  constructor(
    summarise: (left: LeftOut) => void,
    options: FailureLogOptions = {},
  ) {
    this.#summarise = summarise;
    this.#windowMs = options.windowMs ?? FAILURE_WINDOW_MS;
    this.#lines = options.lines ?? FAILURE_LINES;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * True when the line of the peer at `ip` fits this window's budget (the
   * caller writes it); false when it was counted instead, with `detail`.
   */
  take(ip: string, detail: string): boolean {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.flush();
      this.#windowStart = now;
      this.#logged = 0;
    }
    if (this.#logged < this.#lines) {
      this.#logged++;
      return true;
    }
    this.#suppressed++;
    if (this.#peers.size < COUNTED_PEERS) this.#peers.add(ip);
    this.#last = detail;
    this.#timer ??= new Timer(
      this.#windowStart + this.#windowMs - now,
      () => {
        this.#timer = null;
        this.flush();
      },
    );
    return false;
  }

  /** Writes the summary of the lines left out so far, if any. */
  flush(): void {
    this.#timer?.cancel();
    this.#timer = null;
    if (this.#suppressed === 0) return;
    const peers = [...this.#peers];
    this.#summarise({
      suppressed: this.#suppressed,
      peers: peers.length,
      ips: peers.slice(0, NAMED_PEERS).join(", "),
      windowMs: this.#windowMs,
      last: this.#last,
    });
    this.#suppressed = 0;
    this.#peers.clear();
  }

  /** Writes the pending summary and stops the timer. Idempotent. */
  [Symbol.dispose](): void {
    this.flush();
  }
}

/**
 * Logs a failed attempt (a wrong or missing proof, a malformed or silent
 * handshake, …) as its own fail line naming the peer and the reason, up to
 * `lines` per window; past that it only counts them, and writes one
 * `failed_attempts` line when the window ends: how many were left out,
 * from how many peers, some of their addresses, and the last reason.
 */
export class FailureLog implements Disposable {
  readonly #log: ActionLog;
  readonly #budget: LineBudget;

  /**
   * Fail lines to `log`, limited per window.
   *
   * @param log where the lines go
   * @param options the window, lines per window and clock
   */
  constructor(log: ActionLog, options: FailureLogOptions = {}) {
    this.#log = log;
    this.#budget = new LineBudget(
      (left) =>
        log.error("failed_attempts", "fail", {
          suppressed: left.suppressed,
          peers: left.peers,
          ips: left.ips,
          window_ms: left.windowMs,
          last_error: left.last,
        }),
      options,
    );
  }

  /** One failed attempt of the peer at `ip`: `action` failed with `error`. */
  report(action: string, ip: string, error: string): void {
    if (this.#budget.take(ip, error)) {
      this.#log.error(action, "fail", { ip, error });
    }
  }

  /** Writes the summary of the attempts left out so far, if any. */
  flush(): void {
    this.#budget.flush();
  }

  /** Writes the pending summary and stops the timer. Idempotent. */
  [Symbol.dispose](): void {
    this.flush();
  }
}
