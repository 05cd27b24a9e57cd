/**
 * Command-line flags and the configuration file, for both programs.
 *
 * @module
 */
import { ConfigError } from "./config_error.ts";

/** A parsed command line: the config file, flag values by key, positionals. */
export interface ParsedFlags<K extends string> {
  /** `--config PATH`, or the default. */
  readonly configPath: string;
  /** The values of the flags that were given, by configuration key. */
  readonly overrides: Readonly<Partial<Record<K, string>>>;
  /** Arguments that are not flags. */
  readonly positionals: readonly string[];
}

/**
 * Parses `--config PATH` and one string flag per configuration key
 * (`flags` maps each key to its flag name, without dashes), each as
 * `--name value` or `--name=value`; `--` ends the flags. Throws
 * {@linkcode ConfigError} for an unknown flag, a flag without its value, or
 * a positional argument when none are allowed.
 */
export function parseFlags<K extends string>(
  argv: readonly string[],
  flags: Readonly<Record<K, string>>,
  defaultConfig: string,
  allowPositionals = false,
): ParsedFlags<K> {
  const known = new Set<string>(["config", ...Object.values<string>(flags)]);
  const values = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const match = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    const name = match?.[1];
    if (name === undefined || !known.has(name)) {
      throw new ConfigError(arg, "is not a known option");
    }
    let value = match![2];
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith("--")) {
        throw new ConfigError(`--${name}`, "needs a value");
      }
      i++;
    }
    values.set(name, value);
  }
  if (!allowPositionals && positionals.length > 0) {
    throw new ConfigError(
      "command line",
      `has unexpected argument "${positionals[0]}"`,
    );
  }
  const overrides: Partial<Record<K, string>> = {};
  for (const [key, flag] of Object.entries(flags) as [K, string][]) {
    const value = values.get(flag);
    if (value !== undefined) overrides[key] = value;
  }
  return {
    configPath: values.get("config") ?? defaultConfig,
    overrides,
    positionals,
  };
}

/** Reads a configuration file, or throws {@linkcode ConfigError} naming it. */
export async function readConfigFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(
      "--config",
      `file ${path} cannot be read (${(error as Error).name})`,
      { cause: error },
    );
  }
}
