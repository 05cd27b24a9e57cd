/**
 * The central's configuration: the command line, `--help`, and the pure
 * loader that merges flags, environment, config.ini and defaults (the keys
 * themselves are in `config_keys.ts`).
 *
 * @module
 */
import { checkedDatabaseUrl } from "./postgres/pg_options.ts";
import ini from "ini";
import { formatHelp, parseFlags } from "../lib/cli.ts";
import {
  ConfigError,
  ConfigProblems,
  parseDurationValue,
  parseIntegerValue,
  unknownKeysError,
} from "../lib/config_error.ts";
import { isLevel, type Level, LEVELS } from "../lib/log.ts";
import {
  type CentralConfig,
  type Key,
  KEYS,
  type KeySpec,
  MIN_SECRET_LENGTH,
} from "./config_keys.ts";

export { type CentralConfig, KEYS, MIN_SECRET_LENGTH } from "./config_keys.ts";

/** What the command line of `central` says. */
export interface CentralArgs {
  /** `--config PATH` (default `./config.ini`). */
  readonly configPath: string;
  /** True for the internal `worker` sub-command the supervisor spawns. */
  readonly worker: boolean;
  /** The agency id of `agency-key K` (print its key), or `null`. */
  readonly agencyKey: number | null;
  /** `health`, `status` (see `server/ops/`), or `null` to run the central. */
  readonly tool: "health" | "status" | null;
  /** `--json`: `status` prints JSON instead of tables. */
  readonly json: boolean;
  /** `--help` / `-h`: print {@linkcode centralHelp} and exit 0. */
  readonly help: boolean;
  /** `--version` / `-V`. */
  readonly version: boolean;
  /** Values given as flags, by key. */
  readonly overrides: Readonly<Partial<Record<Key, string>>>;
}

/**
 * Parses the central's command line. Throws {@linkcode ConfigError} for an
 * unknown flag or a stray argument.
 */
export function parseCentralArgs(argv: readonly string[]): CentralArgs {
  const flags = Object.fromEntries(
    Object.entries(KEYS).flatMap(([key, spec]: [string, KeySpec]) =>
      spec.flag === undefined ? [] : [[key, spec.flag]]
    ),
  ) as Record<Key, string>;
  const json = argv.includes("--json");
  const { configPath, overrides, positionals, help, version } = parseFlags(
    argv.filter((arg) => arg !== "--json"),
    flags,
    "./config.ini",
    true,
  );
  const [command, ...extra] = positionals;
  const given = { configPath, help, version, overrides };
  if (command === "agency-key") {
    if (extra.length !== 1) {
      throw new ConfigError(
        "agency-key",
        "needs one agency id, e.g. `agency-key 3`",
      );
    }
    const agencyKey = parseIntegerValue("agency-key", extra[0], 1, 0xffff_ffff);
    return { ...given, worker: false, agencyKey, tool: null, json: false };
  }
  if (json && command !== "status") {
    throw new ConfigError("--json", "is an option of `central status` only");
  }
  const tool = command === "health" || command === "status" ? command : null;
  if (
    (command !== undefined && command !== "worker" && tool === null) ||
    extra.length > 0
  ) {
    throw new ConfigError(
      "command line",
      `has unexpected argument "${command ?? extra[0]}" (see central --help)`,
    );
  }
  return {
    ...given,
    worker: command === "worker",
    agencyKey: null,
    tool,
    json,
  };
}

/** The text `central --help` prints. */
export function centralHelp(): string {
  return formatHelp(
    [
      "Usage: central [--config PATH] [--FLAG VALUE ...]",
      "       central [--config PATH] agency-key K   (prints agency K's key from AUTH_SECRET)",
      "       central [--config PATH] health          (exit 0 when a central serves agencies at SERVER_PORT)",
      "       central [--config PATH] status [--json] (where every agency in STORAGE_DIR stands)",
      "       central --help | --version",
      "",
      "The Lotería Nacional central: a supervisor and WORKERS worker processes sharing one",
      "port; it stores the agencies' bets and makes the draw once AGENCIES have finished.",
      "Each key is read from its flag, else its environment variable, else config.ini",
      "(section [DEFAULT]; default file ./config.ini), else its default.",
    ],
    Object.entries(KEYS).map(([key, spec]) => ({
      key,
      env: key,
      ...spec,
    })),
    [
      "An unknown key in config.ini, or a file without [DEFAULT], is an error (exit 2).",
      "Exit codes: 0 after SIGTERM/SIGINT, 1 on a failure, 2 on a configuration error.",
    ],
  );
}

/**
 * Builds the configuration from the text of config.ini (section
 * `[DEFAULT]`), the environment and the flags: flags over environment over
 * file over defaults. Pure; throws one {@linkcode ConfigError} naming every
 * key at fault: unknown keys in the file, missing or bad values. Without
 * `needsSecret` (`central health`, `central status`) `AUTH_SECRET` is
 * neither read nor required, and `authSecret` is empty.
 */
export function loadCentralConfig(
  fileText: string,
  env: Readonly<Record<string, string | undefined>>,
  overrides: Readonly<Partial<Record<Key, string>>> = {},
  needsSecret = true,
): CentralConfig {
  let parsed: Record<string, unknown>;
  try {
    parsed = ini.parse(fileText);
  } catch (error) {
    throw new ConfigError("config.ini", "cannot be parsed", { cause: error });
  }
  const problems = new ConfigProblems();
  const section = fileSection(fileText, parsed, problems);
  const get = (key: Key): string => {
    const spec: KeySpec = KEYS[key];
    const value = overrides[key] ?? env[key] ?? section[key] ?? spec.fallback;
    if (value === undefined || (value === "" && spec.fallback !== "")) {
      const flag = spec.flag === undefined ? "" : ` or --${spec.flag}`;
      const hint = spec.hint === undefined ? "" : `; ${spec.hint}`;
      throw new ConfigError(
        key,
        `is missing (set it in config.ini's [DEFAULT], the environment${flag}${hint})`,
      );
    }
    if (typeof value !== "string") {
      throw new ConfigError(key, "must be a single value");
    }
    return value.trim();
  };
  const integer = (key: Key, min: number, max: number) =>
    problems.check(() => parseIntegerValue(key, get(key), min, max));
  const text = (key: Key) => problems.check(() => get(key));
  const config = {
    port: integer("SERVER_PORT", 0, 65535),
    serverIp: text("SERVER_IP"),
    listenIp: text("LISTEN_IP"),
    listenBacklog: integer("SERVER_LISTEN_BACKLOG", 1, 65535),
    loggingLevel: problems.check(() => loggingLevel(get("LOGGING_LEVEL"))),
    agencies: integer("AGENCIES", 1, 100_000),
    workers: integer("WORKERS", 1, 64),
    storageDir: text("STORAGE_DIR"),
    maxConnections: integer("MAX_CONNECTIONS", 1, 1_000_000),
    idleTimeoutMs: problems.check(() => idleTimeoutMs(get("IDLE_TIMEOUT"))),
    // `health` and `status` read the rest, never the secret.
    authSecret: needsSecret
      ? problems.check(() => authSecret(get("AUTH_SECRET")))
      : "",
    metricsPort: integer("METRICS_PORT", 0, 65535),
    databaseUrl: problems.check(() => checkedDatabaseUrl(get("DATABASE_URL"))),
  };
  problems.throwIfAny();
  return config as CentralConfig;
}

/**
 * The `[DEFAULT]` section of a parsed config.ini. Records a missing section,
 * every section and key the central does not read, and every key given
 * twice in a section (`fileText` is what was parsed; the parser keeps the
 * last value silently).
 */
function fileSection(
  fileText: string,
  parsed: Record<string, unknown>,
  problems: ConfigProblems,
): Record<string, unknown> {
  const section = parsed.DEFAULT;
  const sections: string[] = [];
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (name === "DEFAULT") continue;
    if (typeof value === "object" && value !== null) sections.push(`[${name}]`);
    else unknown.push(`${name} (outside [DEFAULT])`);
  }
  for (const [key, where] of duplicateKeys(fileText)) {
    problems.add(
      new ConfigError(key, `is given twice in ${where} of config.ini`),
    );
  }
  if (sections.length > 0) {
    problems.add(
      new ConfigError(
        sections.join(", "),
        `${
          sections.length === 1
            ? "is not a section the central reads"
            : "are not sections the central reads"
        } (it reads [DEFAULT] only)`,
      ),
    );
  }
  const known = typeof section === "object" && section !== null;
  if (!known) {
    problems.add(
      new ConfigError(
        "[DEFAULT]",
        "section is missing from config.ini (add the line [DEFAULT] before its keys)",
      ),
    );
  } else {
    for (const name of Object.keys(section)) {
      if (!Object.hasOwn(KEYS, name)) unknown.push(name);
    }
  }
  if (unknown.length > 0) {
    problems.add(
      unknownKeysError(unknown, "config.ini's [DEFAULT]", Object.keys(KEYS)),
    );
  }
  return known ? section as Record<string, unknown> : {};
}

/** Each key written twice in one section of `fileText`, with its section. */
function duplicateKeys(fileText: string): [string, string][] {
  const twice: [string, string][] = [];
  const seen = new Set<string>();
  let where = "the lines before any section";
  for (const raw of fileText.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    const header = /^\[(.*)\]$/.exec(line);
    if (header !== null) {
      where = `[${header[1]}]`;
      continue;
    }
    const equals = line.indexOf("=");
    const key = (equals === -1 ? line : line.slice(0, equals)).trim();
    const id = `${where}\n${key}`;
    if (seen.has(id) && !twice.some(([k, w]) => k === key && w === where)) {
      twice.push([key, where]);
    }
    seen.add(id);
  }
  return twice;
}

function loggingLevel(given: string): Level {
  const level = given.toUpperCase();
  if (!isLevel(level)) {
    throw new ConfigError(
      "LOGGING_LEVEL",
      `"${level}" is not one of ${LEVELS.join(", ")}`,
    );
  }
  return level;
}

function idleTimeoutMs(idle: string): number {
  return Math.round(parseDurationValue("IDLE_TIMEOUT", idle, 1e6) / 1e6);
}

function authSecret(secret: string): string {
  if (secret.length < MIN_SECRET_LENGTH) {
    // The message never quotes the secret.
    throw new ConfigError(
      "AUTH_SECRET",
      `is ${secret.length} characters long, shorter than ${MIN_SECRET_LENGTH} (make one with \`openssl rand -hex 32\`)`,
    );
  }
  return secret;
}
