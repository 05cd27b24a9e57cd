/**
 * The course's `accept_connections` lines, with a bound on how many a
 * flood of connections writes.
 *
 * @module
 */
import type { ActionLog } from "../../lib/log.ts";
import { type FailureLogOptions, LineBudget } from "./failure_log.ts";

/**
 * Writes the course's pair of lines for each accepted connection
 * (`accept_connections | success | ip`, then `… | in_progress`) up to a
 * budget per window; past it the connections are only counted, and one
 * `accept_connections | success | unlogged: N | peers: M | ips: …` line
 * sums them up when the window ends. An agency run writes its lines as
 * the course shows them; a flood, a couple of lines a window.
 */
export class AcceptLog implements Disposable {
  readonly #log: ActionLog;
  readonly #budget: LineBudget;

  /**
   * @param log where the lines go
   * @param options the window, connections logged whole per window, clock
   */
  constructor(log: ActionLog, options: FailureLogOptions = {}) {
    this.#log = log;
    this.#budget = new LineBudget(
      (left) =>
        log.info("accept_connections", "success", {
          unlogged: left.suppressed,
          peers: left.peers,
          ips: left.ips,
          window_ms: left.windowMs,
        }),
      options,
    );
  }

  /** A connection from `ip` was accepted. */
  accepted(ip: string): void {
    if (!this.#budget.take(ip, "")) return;
    this.#log.info("accept_connections", "success", { ip });
    this.#log.info("accept_connections", "in_progress");
  }

  /** Writes the summary of the connections left out so far. Idempotent. */
  [Symbol.dispose](): void {
    this.#budget.flush();
  }
}
