/**
 * Exponential back-off for every retry loop of the project: the agency's
 * requests and echo probes, the supervisor's restarts, and KV operations
 * while SQLite is busy.
 *
 * @module
 */
import { Timer } from "./timer.ts";

/**
 * Pauses that double from `initialMs` up to `maxMs`, one per failure,
 * counted; {@linkcode Backoff.reset} starts over after progress.
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  #delay: number;
  #failures = 0;

  /**
   * A backoff whose next pause is `initialMs`.
   *
   * @param initialMs the first pause
   * @param maxMs the longest pause
   */
  constructor(initialMs: number, maxMs: number) {
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#delay = initialMs;
  }

  /** Failures since the start or the last reset. */
  get failures(): number {
    return this.#failures;
  }

  /** Counts a failure and returns the pause before the next try. */
  next(): number {
    this.#failures++;
    const delay = this.#delay;
    this.#delay = Math.min(delay * 2, this.#maxMs);
    return delay;
  }

  /** Progress: the next failure is the first of a new series. */
  reset(): void {
    this.#failures = 0;
    this.#delay = this.#initialMs;
  }

  /**
   * Counts a failure and waits the pause before the next try; resolves
   * early, and the same way, once `signal` aborts (so an abort wakes every
   * waiter at once).
   */
  wait(signal?: AbortSignal): Promise<void> {
    const delay = this.next();
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const onAbort = () => {
        timer.cancel();
        resolve();
      };
      const timer = new Timer(delay, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
