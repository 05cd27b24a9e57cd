/**
 * The configuration error both programs report, naming its key.
 *
 * @module
 */
import { formatDuration, parseDuration } from "./duration.ts";

/**
 * A configuration value is missing or unusable. The message names the key
 * (as the user wrote it: file key, environment variable or flag) and the
 * problem, ready to be printed as the program's one line before it exits.
 */
export class ConfigError extends Error {
  /** The key at fault, e.g. `SERVER_PORT` or `batch.maxAmount`. */
  readonly key: string;

  /**
   * An error naming `key` and its `problem`.
   *
   * @param key the key at fault
   * @param problem what is wrong with it, e.g. `"abc" is not an integer`
   * @param options the underlying error, if any
   */
  constructor(key: string, problem: string, options?: ErrorOptions) {
    super(`Cannot load configuration: ${key} ${problem}`, options);
    this.name = "ConfigError";
    this.key = key;
  }

  /**
   * One error for several: every key named, every problem in one message
   * (`Cannot load configuration: A is missing; B "x" is not an integer`).
   * A single error is returned as it is.
   */
  static combine(errors: readonly ConfigError[]): ConfigError {
    if (errors.length === 1) return errors[0]!;
    const prefix = "Cannot load configuration: ";
    const combined = new ConfigError(
      errors.map((e) => e.key).join(", "),
      "",
      { cause: new AggregateError(errors) },
    );
    combined.message = prefix +
      errors.map((e) => e.message.slice(prefix.length)).join("; ");
    return combined;
  }
}

/**
 * Runs each check and collects the {@linkcode ConfigError}s they throw, so
 * that a loader can name every wrong key at once; other errors pass through.
 */
export class ConfigProblems {
  readonly #errors: ConfigError[] = [];

  /** Runs `check`; a ConfigError is kept and `undefined` returned. */
  check<T>(check: () => T): T | undefined {
    try {
      return check();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.#errors.push(error);
      return undefined;
    }
  }

  /** Records a problem found without a check. */
  add(error: ConfigError): void {
    this.#errors.push(error);
  }

  /** Throws one error naming every problem collected, if there is any. */
  throwIfAny(): void {
    if (this.#errors.length > 0) throw ConfigError.combine(this.#errors);
  }
}

/**
 * The error for keys a config file has but the program does not read:
 * `names` (one or more), in `file`, whose keys are `known`.
 */
export function unknownKeysError(
  names: readonly string[],
  file: string,
  known: readonly string[],
): ConfigError {
  return new ConfigError(
    names.join(", "),
    `${names.length === 1 ? "is not a key" : "are not keys"} of ${file} ` +
      `(its keys: ${known.join(", ")})`,
  );
}

/** Parses an integer config value in `[min, max]`, or throws {@linkcode ConfigError}. */
export function parseIntegerValue(
  key: string,
  raw: unknown,
  min: number,
  max: number,
): number {
  const text = String(raw).trim();
  const value = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) {
    throw new ConfigError(key, `"${raw}" is not an integer`);
  }
  if (value < min || value > max) {
    throw new ConfigError(key, `${value} is not between ${min} and ${max}`);
  }
  return value;
}

/**
 * Parses a Go duration config value (`50ms`, `5s`, `1m`) of at least `minNs`
 * nanoseconds, or throws {@linkcode ConfigError} naming `key`.
 */
export function parseDurationValue(
  key: string,
  text: string,
  minNs = 0,
): number {
  let ns: number;
  try {
    ns = parseDuration(text);
  } catch (error) {
    throw new ConfigError(key, (error as Error).message, { cause: error });
  }
  if (ns < minNs) {
    throw new ConfigError(
      key,
      minNs === 0
        ? `"${text}" is negative`
        : `"${text}" is shorter than ${formatDuration(minNs)}`,
    );
  }
  return ns;
}
