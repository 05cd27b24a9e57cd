/**
 * The central's configuration: its keys (each also an environment variable
 * and a flag), the command line, `--help`, and the pure loader that merges
 * flags, environment, config.ini and defaults.
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

/** The central's effective configuration. */
export interface CentralConfig {
  /** `SERVER_PORT`: the one port every worker listens on (0: pick a free one). */
  readonly port: number;
  /** `SERVER_IP`: the address agencies and the echo validator use. */
  readonly serverIp: string;
  /** `LISTEN_IP`: the address the workers bind (default `0.0.0.0`). */
  readonly listenIp: string;
  /** `SERVER_LISTEN_BACKLOG`: the listen queue of each worker's socket. */
  readonly listenBacklog: number;
  /** `LOGGING_LEVEL`. */
  readonly loggingLevel: Level;
  /** `AGENCIES`: how many agencies the draw waits for (default 5). */
  readonly agencies: number;
  /** `WORKERS`: worker processes sharing the port (default 2). */
  readonly workers: number;
  /** `STORAGE_DIR`: where bets.csv, the ledger, the lockfile and the KV file live (default `.storage`). */
  readonly storageDir: string;
  /** `MAX_CONNECTIONS`: proven agencies per worker before new ones are refused (default 1024). */
  readonly maxConnections: number;
  /** `IDLE_TIMEOUT`: how long a connection may stay silent, in ms (default 30s). */
  readonly idleTimeoutMs: number;
  /**
   * `AUTH_SECRET`: the secret agency keys are derived from (required, at
   * least {@linkcode MIN_SECRET_LENGTH} characters). Never logged.
   */
  readonly authSecret: string;
  /** `METRICS_PORT`: where the supervisor serves `GET /metrics` (0, the default: off). */
  readonly metricsPort: number;
  /** `DATABASE_URL`: PostgreSQL instead of the file store ("": the file store). A secret. */
  readonly databaseUrl: string;
}

/**
 * Shortest `AUTH_SECRET` accepted: a recorded handshake lets anyone test
 * guesses of the secret offline, so it must be too long to guess
 * (`openssl rand -hex 32` gives 64 characters).
 */
export const MIN_SECRET_LENGTH = 32;

interface KeySpec {
  /** Its command-line flag; none for a secret (a flag shows in `ps`). */
  readonly flag?: string;
  readonly fallback?: string;
  readonly help: string;
  /** What to say when it is missing, besides where to set it. */
  readonly hint?: string;
}

/** Every key (also its environment variable): flag, documented default (none: required), meaning. */
export const KEYS = {
  SERVER_PORT: {
    flag: "port",
    help: "the one port all workers share; 0 picks a free one",
  },
  SERVER_IP: {
    flag: "server-ip",
    help: "the address agencies and the validator use",
  },
  SERVER_LISTEN_BACKLOG: {
    flag: "listen-backlog",
    help: "listen queue per worker",
  },
  LOGGING_LEVEL: {
    flag: "logging-level",
    help: LEVELS.join(", "),
  },
  AGENCIES: {
    flag: "agencies",
    fallback: "5",
    help: "how many agencies the draw waits for",
  },
  WORKERS: { flag: "workers", fallback: "2", help: "worker processes" },
  STORAGE_DIR: {
    flag: "storage-dir",
    fallback: ".storage",
    help: "where bets.csv, ledger.bin, central.lock, central.kv live " +
      "(images: /app/.storage, the compose volume)",
  },
  LISTEN_IP: {
    flag: "listen-ip",
    fallback: "0.0.0.0",
    help: "address the workers bind",
  },
  MAX_CONNECTIONS: {
    flag: "max-connections",
    fallback: "1024",
    help:
      "proven agencies per worker before new ones are refused (unproven connections have their own budget)",
  },
  IDLE_TIMEOUT: {
    flag: "idle-timeout",
    fallback: "30s",
    help: "longest silence from a peer (Go duration)",
  },
  METRICS_PORT: {
    flag: "metrics-port",
    fallback: "0",
    help: "serve GET /metrics (Prometheus text) on this port; 0: off",
  },
  AUTH_SECRET: {
    help:
      "the secret agency keys are derived from (environment or config.ini " +
      "only, never a flag; at least 32 characters; never logged)",
    hint:
      "the central never runs without authentication; make one with `openssl rand -hex 32`",
  },
  DATABASE_URL: {
    fallback: "",
    help:
      "PostgreSQL (postgres://… or libpq key=value, hosts comma-separated) " +
      "instead of the file store; unset: the file store (a secret, like AUTH_SECRET)",
  },
} as const satisfies Record<string, KeySpec>;

type Key = keyof typeof KEYS;

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
