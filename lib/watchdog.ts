/**
 * One timer for a stream of deadlines.
 *
 * @module
 */
import { Timer } from "./timer.ts";

/**
 * One timer for a stream of deadlines. A session or a client that waits
 * thousands of times a second for the next frame arms a deadline before
 * each wait and disarms it after; instead of a timer per wait, one timer
 * checks the latest deadline when it fires and sleeps again for what is
 * left. `onExpire` runs once a deadline passes while armed.
 */
export class Watchdog implements Disposable {
  readonly #onExpire: () => void;
  readonly #now: () => number;
  #deadline: number | null = null;
  #timer: Timer | null = null;
  #firesAt = Infinity;

  /**
   * A watchdog with no deadline armed.
   *
   * @param onExpire called when an armed deadline passes
   * @param now the clock, in ms (default `performance.now`)
   */
  constructor(
    onExpire: () => void,
    now: () => number = () => performance.now(),
  ) {
    this.#onExpire = onExpire;
    this.#now = now;
  }

  /** Arms a deadline `ms` from now, replacing any armed one. */
  arm(ms: number): void {
    this.#deadline = this.#now() + ms;
    if (this.#deadline < this.#firesAt) {
      this.#timer?.cancel();
      this.#schedule(ms);
    }
  }

  /** Disarms the deadline; the timer lapses the next time it fires. */
  disarm(): void {
    this.#deadline = null;
  }

  /** Stops the timer for good (idempotent). */
  [Symbol.dispose](): void {
    this.#deadline = null;
    this.#timer?.cancel();
    this.#timer = null;
    this.#firesAt = Infinity;
  }

  #schedule(ms: number): void {
    this.#firesAt = this.#now() + ms;
    this.#timer = new Timer(ms, () => {
      this.#timer = null;
      this.#firesAt = Infinity;
      if (this.#deadline === null) return;
      const left = this.#deadline - this.#now();
      if (left > 0) return this.#schedule(left);
      this.#deadline = null;
      this.#onExpire();
    });
  }
}
