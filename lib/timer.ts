/**
 * A one-shot timer that does not load Node's timers.
 *
 * @module
 */
/**
 * A one-shot timer on `AbortSignal.timeout` rather than the global
 * `setTimeout`. In Deno 2.9 the global `setTimeout` is Node's: its first use
 * loads the Node-compatible timer modules, CPU at every agency's start
 * that a short-lived process feels (see docs/performance.md). A timeout signal's timer keeps the process alive only while an
 * abort listener is attached, so a pending timer keeps it alive and a
 * cancelled one does not; `tests/timer_exit_test.ts` holds Deno to that.
 * A cancelled timer still lapses in the runtime's queue when its time
 * comes, doing nothing.
 */
export class Timer implements Disposable {
  #signal: AbortSignal | null;
  #listener: (() => void) | null;

  /**
   * Calls `callback` once, `ms` from now (rounded up to a whole ms; 0 for a
   * negative `ms`), unless cancelled first.
   */
  constructor(ms: number, callback: () => void) {
    const signal = AbortSignal.timeout(Math.max(0, Math.ceil(ms)));
    const listener = () => {
      this.#signal = null;
      this.#listener = null;
      callback();
    };
    signal.addEventListener("abort", listener, { once: true });
    this.#signal = signal;
    this.#listener = listener;
  }

  /** True until the timer fires or is cancelled. */
  get pending(): boolean {
    return this.#listener !== null;
  }

  /** Cancels the timer if it has not fired. Idempotent. */
  cancel(): void {
    if (this.#signal !== null && this.#listener !== null) {
      this.#signal.removeEventListener("abort", this.#listener);
    }
    this.#signal = null;
    this.#listener = null;
  }

  /** Cancels the timer. */
  [Symbol.dispose](): void {
    this.cancel();
  }
}
