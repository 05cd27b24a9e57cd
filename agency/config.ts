/**
 * The agency's configuration: the command line, `--help`, and the pure
 * loader that merges flags, environment, config.yaml and defaults (the keys
 * themselves are in `config_keys.ts`).
 *
 * @module
 */
import { isAgencyKey } from "../lib/agency_auth.ts";
import { Bet } from "../lib/bet.ts";
import { load as loadYaml } from "js-yaml";
import { formatHelp, parseFlags } from "../lib/cli.ts";
import {
  ConfigError,
  ConfigProblems,
  parseDurationValue,
  parseIntegerValue,
  unknownKeysError,
} from "../lib/config_error.ts";
import { isLevel, LEVELS } from "../lib/log.ts";
import type { WireBet } from "../protocol/messages.ts";
import {
  type AgencyConfig,
  BET_ENV,
  type Key,
  KEYS,
  type KeySpec,
  type Mode,
  MODES,
} from "./config_keys.ts";

export {
  type AgencyConfig,
  BET_ENV,
  DEFAULT_BATCH_MAX_AMOUNT,
  KEYS,
  type Mode,
  MODES,
} from "./config_keys.ts";

/** What the command line of `agency` says. */
export interface AgencyArgs {
  /** `--config PATH` (default `./config.yaml`). */
  readonly configPath: string;
  /** `--help` / `-h`: print {@linkcode agencyHelp} and exit 0. */
  readonly help: boolean;
  /** `--version` / `-V`. */
  readonly version: boolean;
  /** Values given as flags, by key. */
  readonly overrides: Readonly<Partial<Record<Key, string>>>;
}

/**
 * Parses the agency's command line; throws {@linkcode ConfigError}, also
 * for `--auth-key`: a key given as a flag would show in `ps`.
 */
export function parseAgencyArgs(argv: readonly string[]): AgencyArgs {
  const end = argv.indexOf("--");
  const flagged = (end === -1 ? argv : argv.slice(0, end)).some((arg) =>
    arg === "--auth-key" || arg.startsWith("--auth-key=")
  );
  if (flagged) {
    throw new ConfigError(
      "--auth-key",
      "is not accepted: a flag shows in `ps` to every user; set CLI_AUTH_KEY or auth.key in config.yaml",
    );
  }
  const flags = Object.fromEntries(
    Object.entries(KEYS).flatMap(([key, spec]: [string, KeySpec]) =>
      spec.flag === undefined ? [] : [[key, spec.flag]]
    ),
  ) as Record<Key, string>;
  const { configPath, overrides, help, version } = parseFlags(
    argv,
    flags,
    "./config.yaml",
  );
  return { configPath, help, version, overrides };
}

/** The text `agency --help` prints. */
export function agencyHelp(): string {
  return formatHelp(
    [
      "Usage: agency [--config PATH] [--FLAG VALUE ...]",
      "       agency --help | --version",
      "",
      "A Lotería Nacional agency: the echo loop, one bet (NOMBRE, APELLIDO, DOCUMENTO,",
      "NACIMIENTO, NUMERO from the environment) or its whole CSV in batches, then its winners.",
      "Each key is read from its flag, else its environment variable, else config.yaml",
      "(default file ./config.yaml), else its default.",
    ],
    Object.values(KEYS).map((spec) => ({ key: spec.path.join("."), ...spec })),
    [
      "An unknown key in config.yaml is an error (exit 2).",
      "Against `deno task central` on this host:",
      "  deno task agency --id 1 --server-address 127.0.0.1:12345 --data-path .data/agency-1.csv",
      "Exit codes: 0 on success and after SIGTERM/SIGINT, 1 on a failure, 2 on a configuration error.",
    ],
  );
}

/**
 * Builds the configuration from the text of config.yaml, the environment
 * (`CLI_*`, and `NOMBRE` … `NUMERO` for the bet stage) and the flags: flags
 * over environment over file over defaults. Pure (it reads nothing); throws
 * one {@linkcode ConfigError} naming every key at fault: unknown keys in the
 * file, missing or bad values.
 */
export function loadAgencyConfig(
  fileText: string,
  env: Readonly<Record<string, string | undefined>>,
  overrides: Readonly<Partial<Record<Key, string>>> = {},
): AgencyConfig {
  const document = parseDocument(fileText);
  const problems = new ConfigProblems();
  const { values, unknown, conflicting } = keyValues(document);
  for (const key of new Set(conflicting)) {
    problems.add(
      new ConfigError(
        key,
        "is given twice in config.yaml, flat and nested, with different values",
      ),
    );
  }
  if (unknown.length > 0) {
    problems.add(
      unknownKeysError(
        unknown,
        "config.yaml",
        Object.values(KEYS).map((spec) => spec.path.join(".")),
      ),
    );
  }
  const get = (key: Key): string => {
    const spec: KeySpec = KEYS[key];
    const value = overrides[key] ?? env[spec.env] ??
      values.get(spec.path.join(".")) ?? spec.fallback;
    const name = spec.path.join(".");
    if (value === undefined || value === null || value === "") {
      const where = spec.flag === undefined
        ? `config.yaml or as ${spec.env}`
        : `config.yaml, as ${spec.env} or with --${spec.flag}`;
      throw new ConfigError(name, `is missing (set it in ${where})`);
    }
    if (typeof value === "object") {
      throw new ConfigError(name, "must be a single value");
    }
    return String(value).trim();
  };
  const integer = (key: Key, min: number, max: number) =>
    problems.check(() =>
      parseIntegerValue(KEYS[key].path.join("."), get(key), min, max)
    );

  const id = integer("id", 1, 0xffff_ffff);
  const address = problems.check(() => {
    const serverAddress = get("serverAddress");
    const addresses = serverAddress.split(",").map((a) =>
      splitAddress(a.trim())
    );
    return { serverAddress, addresses, ...addresses[0]! };
  });
  const loopPeriodNs = problems.check(() =>
    parseDurationValue("loop.period", get("loopPeriod"))
  );
  const logLevel = problems.check(() => {
    const level = get("logLevel").toUpperCase();
    if (!isLevel(level)) {
      throw new ConfigError(
        "log.level",
        `"${level}" is not one of ${LEVELS.join(", ")}`,
      );
    }
    return level;
  });
  const mode = problems.check(() => {
    const mode = get("mode").toLowerCase();
    if (!(MODES as readonly string[]).includes(mode)) {
      throw new ConfigError(
        "mode",
        `"${mode}" is not one of ${MODES.join(", ")}`,
      );
    }
    return mode as Mode;
  });
  const config = {
    id,
    ...address,
    loopAmount: integer("loopAmount", 0, 1_000_000),
    loopPeriodNs,
    logLevel,
    batchMaxAmount: integer("batchMaxAmount", 1, 65535),
    mode,
    dataPath: problems.check(() => get("dataPath")),
    retryAttempts: integer("retryAttempts", 1, 1000),
    bet: mode === "bet" && id !== undefined
      ? problems.check(() => betFromEnv(id, env)) ?? null
      : null,
    authKey: mode === undefined || mode === "echo"
      ? null
      : problems.check(() => agencyKeyValue(get("authKey"))) ?? null,
    drawTimeoutNs: problems.check(() =>
      parseDurationValue("draw.timeout", get("drawTimeout"))
    ),
  };
  problems.throwIfAny();
  return config as AgencyConfig;
}

/** config.yaml as a mapping (an empty file is an empty one). */
function parseDocument(fileText: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = loadYaml(fileText) ?? {};
  } catch (error) {
    // js-yaml's message carries a multi-line source snippet; keep one line.
    const { reason, mark, message } = error as Error & {
      reason?: string;
      mark?: { line: number; column: number };
    };
    const where = mark === undefined
      ? ""
      : ` at line ${mark.line + 1}, column ${mark.column + 1}`;
    throw new ConfigError(
      "config.yaml",
      `cannot be parsed: ${reason ?? message}${where}`,
      { cause: error },
    );
  }
  if (
    typeof document !== "object" || document === null || Array.isArray(document)
  ) {
    throw new ConfigError("config.yaml", "must be a mapping of keys");
  }
  return document as Record<string, unknown>;
}

/** config.yaml's values by dotted key name, and what is wrong with its keys. */
interface KeyValues {
  readonly values: ReadonlyMap<string, unknown>;
  /** Dotted names that no {@linkcode KEYS} entry reads. */
  readonly unknown: readonly string[];
  /** Keys given both flat and nested, with different values. */
  readonly conflicting: readonly string[];
}

/**
 * The values of `document` by dotted key name: a key may be written nested
 * (`batch:` then `maxAmount: 64`) or flat (`batch.maxAmount: 64`), or both
 * with the same value. A group such as `loop` is known when a key lives
 * under it.
 */
function keyValues(document: Record<string, unknown>): KeyValues {
  const paths = Object.values(KEYS).map((spec) => spec.path.join("."));
  const values = new Map<string, unknown>();
  const unknown: string[] = [];
  const conflicting: string[] = [];
  const walk = (value: Record<string, unknown>, prefix: string) => {
    for (const [name, child] of Object.entries(value)) {
      const path = prefix + name;
      if (paths.includes(path)) {
        if (
          values.has(path) &&
          JSON.stringify(values.get(path)) !== JSON.stringify(child)
        ) conflicting.push(path);
        values.set(path, child);
        continue;
      }
      const isGroup = paths.some((known) => known.startsWith(path + "."));
      if (
        isGroup && typeof child === "object" && child !== null &&
        !Array.isArray(child)
      ) {
        walk(child as Record<string, unknown>, path + ".");
      } else {
        unknown.push(path);
      }
    }
  };
  walk(document, "");
  return { values, unknown, conflicting };
}

/** The key, lowercased; the message never quotes it (it is a secret). */
function agencyKeyValue(text: string): string {
  const key = text.toLowerCase();
  if (!isAgencyKey(key)) {
    throw new ConfigError(
      "auth.key",
      "is not an agency key: 64 hex digits, as `central agency-key K` prints",
    );
  }
  return key;
}

function splitAddress(address: string): { hostname: string; port: number } {
  const colon = address.lastIndexOf(":");
  const hostname = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  if (colon <= 0 || hostname === "") {
    throw new ConfigError("server.address", `"${address}" is not host:port`);
  }
  return {
    hostname,
    port: parseIntegerValue(
      "server.address",
      address.slice(colon + 1),
      1,
      65535,
    ),
  };
}

function betFromEnv(
  agency: number,
  env: Readonly<Record<string, string | undefined>>,
): WireBet {
  const wire: Record<string, string> = {};
  for (const [field, name] of Object.entries(BET_ENV)) {
    const value = env[name];
    if (value === undefined || value === "") {
      throw new ConfigError(
        name,
        "is missing (the bet stage needs NOMBRE, APELLIDO, DOCUMENTO, NACIMIENTO and NUMERO)",
      );
    }
    wire[field] = value;
  }
  const bet = wire as unknown as WireBet;
  try {
    Bet.fromWire(agency, bet);
  } catch (error) {
    const message = (error as Error).message;
    const field = Object.entries({
      first_name: "NOMBRE",
      last_name: "APELLIDO",
      document: "DOCUMENTO",
      birthdate: "NACIMIENTO",
      number: "NUMERO",
    }).find(([name]) => message.includes(name))?.[1] ?? "NOMBRE";
    throw new ConfigError(
      field,
      message.replace(/^Cannot accept bet: /, "is invalid: "),
      {
        cause: error,
      },
    );
  }
  return bet;
}
