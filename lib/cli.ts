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
  /** `--help` or `-h` was given: print the usage, read nothing else. */
  readonly help: boolean;
  /** `--version` or `-V` was given. */
  readonly version: boolean;
}

/**
 * Parses `--config PATH` and one string flag per configuration key
 * (`flags` maps each key to its flag name, without dashes), each as
 * `--name value` or `--name=value`; `--` ends the flags. `--help`/`-h` or
 * `--version`/`-V` anywhere before `--` wins over everything else. Throws
 * {@linkcode ConfigError} for an unknown flag, a flag without its value, or
 * a positional argument when none are allowed.
 */
export function parseFlags<K extends string>(
  argv: readonly string[],
  flags: Readonly<Record<K, string>>,
  defaultConfig: string,
  allowPositionals = false,
): ParsedFlags<K> {
  const end = argv.indexOf("--");
  const before = end === -1 ? argv : argv.slice(0, end);
  const help = before.some((arg) => arg === "--help" || arg === "-h");
  const version = before.some((arg) => arg === "--version" || arg === "-V");
  if (help || version) {
    return {
      configPath: defaultConfig,
      overrides: {} as Partial<Record<K, string>>,
      positionals: [],
      help,
      version,
    };
  }
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
    help: false,
    version: false,
  };
}

/** One configuration key as `--help` shows it. */
export interface HelpRow {
  /** The key as the config file spells it. */
  readonly key: string;
  /** Its environment variable. */
  readonly env: string;
  /** Its flag, without dashes; none for a key that has no flag. */
  readonly flag?: string;
  /** Its default, or undefined when it is required. */
  readonly fallback?: string;
  /** What it means. */
  readonly help: string;
}

/**
 * The text of `--help`: the usage lines, then a table of every key with its
 * environment variable, flag and default, then the notes.
 */
export function formatHelp(
  usage: readonly string[],
  rows: readonly HelpRow[],
  notes: readonly string[],
): string {
  const table = [
    ["key", "env var", "flag", "default", "meaning"],
    ...rows.map((row) => [
      row.key,
      row.env,
      row.flag === undefined ? "(none)" : `--${row.flag}`,
      row.fallback === undefined ? "(required)" : row.fallback,
      row.help,
    ]),
  ];
  const widths = table[0]!.map((_, column) =>
    Math.max(...table.map((cells) => cells[column]!.length))
  );
  const lines = table.map((cells) =>
    "  " +
    cells.map((cell, i) =>
      i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)
    ).join("  ")
  );
  return [...usage, "", ...lines, "", ...notes].join("\n") + "\n";
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
