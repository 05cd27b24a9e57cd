/**
 * Rate-limited fail lines, for conditions that can repeat thousands of
 * times a second (a storm of reset peers, a full disk).
 *
 * It is not `server/net/failure_log.ts`'s FailureLog: this one wraps a
 * whole log and limits, per action, one condition that repeats (its first
 * line, then its latest with a count), while FailureLog keeps the lines of
 * distinct unproven peers (several per window, each naming its peer and
 * reason, then a summary of the peers left out) — what an operator needs to
 * spot an attacker.
 *
 * @module
 */
import type { ActionLog, Fields, Result } from "./log.ts";
import { Timer } from "./timer.ts";

/** How often a repeating fail line is written at most, by default. */
export const THROTTLE_PERIOD_MS = 5_000;

interface Held {
  /** The last line held back, with its level. */
  level: "debug" | "info" | "warning" | "error";
  fields: Fields;
  /** Lines held back since the last one written. */
  repeated: number;
}

/**
 * An {@linkcode ActionLog} that passes every line through to `log`, except
 * the `fail` lines of the given actions: the first one of an action is
 * written at once; the ones that follow within `periodMs` are held back and
 * counted, and at the end of the period the last of them is written with
 * `repeated: N` (how many were held back). A period with no line held back
 * ends the series, so the next fail line is written at once again.
 * Disposing it writes what is held back.
 */
export class ThrottledLog implements ActionLog, Disposable {
  readonly #log: ActionLog;
  readonly #actions: ReadonlySet<string>;
  readonly #periodMs: number;
  /** Per action in a series: what is held back (null: nothing yet). */
  readonly #series = new Map<string, Held | null>();
  readonly #timers = new Map<string, Timer>();

  /**
   * Rate-limits the fail lines of `actions` on their way to `log`.
   *
   * @param log where lines go
   * @param actions the actions whose fail lines are rate-limited
   * @param periodMs the shortest time between two fail lines of an action
   */
  constructor(
    log: ActionLog,
    actions: readonly string[],
    periodMs: number = THROTTLE_PERIOD_MS,
  ) {
    this.#log = log;
    this.#actions = new Set(actions);
    this.#periodMs = periodMs;
  }

  /** Logs at DEBUG (bound: callers pass it around as a function). */
  readonly debug = (action: string, result: Result, fields?: Fields): void =>
    this.#line("debug", action, result, fields);

  /** Logs at INFO (bound: callers pass it around as a function). */
  readonly info = (action: string, result: Result, fields?: Fields): void =>
    this.#line("info", action, result, fields);

  /** Logs at WARNING (bound: callers pass it around as a function). */
  readonly warning = (action: string, result: Result, fields?: Fields): void =>
    this.#line("warning", action, result, fields);

  /** Logs at ERROR (bound: callers pass it around as a function). */
  readonly error = (action: string, result: Result, fields?: Fields): void =>
    this.#line("error", action, result, fields);

  #line(
    level: Held["level"],
    action: string,
    result: Result,
    fields: Fields = {},
  ): void {
    if (result !== "fail" || !this.#actions.has(action)) {
      this.#log[level](action, result, fields);
      return;
    }
    const held = this.#series.get(action);
    if (held === undefined) {
      this.#log[level](action, result, fields);
      this.#series.set(action, null);
      this.#timers.set(action, this.#quiet(action));
      return;
    }
    if (held === null) {
      this.#series.set(action, { level, fields, repeated: 1 });
    } else {
      held.level = level;
      held.fields = fields;
      held.repeated++;
    }
  }

  /** A quiet period for `action`; at its end the held line, if any, is written. */
  #quiet(action: string): Timer {
    return new Timer(this.#periodMs, () => {
      const held = this.#series.get(action);
      if (held == null) {
        this.#series.delete(action);
        this.#timers.delete(action);
        return;
      }
      this.#write(action, held);
      this.#series.set(action, null);
      this.#timers.set(action, this.#quiet(action));
    });
  }

  #write(action: string, held: Held): void {
    this.#log[held.level](action, "fail", {
      ...held.fields,
      repeated: held.repeated,
    });
  }

  /** Writes every line held back and stops the timers. Idempotent. */
  [Symbol.dispose](): void {
    for (const [action, held] of this.#series) {
      if (held != null) this.#write(action, held);
    }
    for (const timer of this.#timers.values()) timer.cancel();
    this.#series.clear();
    this.#timers.clear();
  }
}
