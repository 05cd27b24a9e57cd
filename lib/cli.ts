import { parseArgs } from "node:util";
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
 * (`flags` maps each key to its flag name, without dashes). Throws
 * {@linkcode ConfigError} for an unknown flag, a flag without its value, or
 * a positional argument when none are allowed.
 */
export function parseFlags<K extends string>(
  argv: readonly string[],
  flags: Readonly<Record<K, string>>,
  defaultConfig: string,
  allowPositionals = false,
): ParsedFlags<K> {
  const options: Record<string, { type: "string" }> = {
    config: { type: "string" },
  };
  for (const flag of Object.values<string>(flags)) {
    options[flag] = { type: "string" };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals });
  } catch (error) {
    throw new ConfigError("command line", (error as Error).message, {
      cause: error,
    });
  }
  const overrides: Partial<Record<K, string>> = {};
  for (const [key, flag] of Object.entries(flags) as [K, string][]) {
    const value = parsed.values[flag];
    if (typeof value === "string") overrides[key] = value;
  }
  return {
    configPath: String(parsed.values.config ?? defaultConfig),
    overrides,
    positionals: parsed.positionals,
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
