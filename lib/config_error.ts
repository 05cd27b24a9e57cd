/**
 * The configuration error both programs report, naming its key.
 *
 * @module
 */
/**
 * A configuration value is missing or unusable. The message names the key
 * (as the user wrote it: file key, environment variable or flag) and the
 * problem, ready to be printed as the program's one line before it exits.
 */
export class ConfigError extends Error {
  /** The key at fault, e.g. `SERVER_PORT` or `batch.maxAmount`. */
  readonly key: string;

  /**
   * @param key the key at fault
   * @param problem what is wrong with it, e.g. `"abc" is not an integer`
   * @param options the underlying error, if any
   */
  constructor(key: string, problem: string, options?: ErrorOptions) {
    super(`Cannot load configuration: ${key} ${problem}`, options);
    this.name = "ConfigError";
    this.key = key;
  }
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
