import ini from "ini";
import { parseFlags } from "../lib/cli.ts";
import { ConfigError, parseIntegerValue } from "../lib/config_error.ts";
import { parseDuration } from "../lib/duration.ts";
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
  /** `STORAGE_DIR`: where bets.csv, the lockfile and the KV file live (default `.`). */
  readonly storageDir: string;
  /** `MAX_CONNECTIONS`: open connections per worker before new ones are refused (default 1024). */
  readonly maxConnections: number;
  /** `IDLE_TIMEOUT`: how long a connection may stay silent, in ms (default 30s). */
  readonly idleTimeoutMs: number;
  /**
   * `AUTH_SECRET`: the secret agency keys are derived from (required, at
   * least {@linkcode MIN_SECRET_LENGTH} characters). Never logged.
   */
  readonly authSecret: string;
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
  /** What to say when it is missing, besides where to set it. */
  readonly hint?: string;
}

/** Every key: its flag and its documented default (none: required). */
const KEYS = {
  SERVER_PORT: { flag: "port" },
  SERVER_IP: { flag: "server-ip" },
  SERVER_LISTEN_BACKLOG: { flag: "listen-backlog" },
  LOGGING_LEVEL: { flag: "logging-level" },
  LISTEN_IP: { flag: "listen-ip", fallback: "0.0.0.0" },
  AGENCIES: { flag: "agencies", fallback: "5" },
  WORKERS: { flag: "workers", fallback: "2" },
  STORAGE_DIR: { flag: "storage-dir", fallback: "." },
  MAX_CONNECTIONS: { flag: "max-connections", fallback: "1024" },
  IDLE_TIMEOUT: { flag: "idle-timeout", fallback: "30s" },
  AUTH_SECRET: {
    hint:
      "the central never runs without authentication; make one with `openssl rand -hex 32`",
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
  const { configPath, overrides, positionals } = parseFlags(
    argv,
    flags,
    "./config.ini",
    true,
  );
  const [command, ...extra] = positionals;
  if (command === "agency-key") {
    if (extra.length !== 1) {
      throw new ConfigError(
        "agency-key",
        "needs one agency id, e.g. `agency-key 3`",
      );
    }
    const agencyKey = parseIntegerValue("agency-key", extra[0], 1, 0xffff_ffff);
    return { configPath, worker: false, agencyKey, overrides };
  }
  if ((command !== undefined && command !== "worker") || extra.length > 0) {
    throw new ConfigError(
      "command line",
      `has unexpected argument "${command ?? extra[0]}"`,
    );
  }
  return {
    configPath,
    worker: command === "worker",
    agencyKey: null,
    overrides,
  };
}

/**
 * Builds the configuration from the text of config.ini (section
 * `[DEFAULT]`), the environment and the flags: flags over environment over
 * file over defaults. Pure; throws {@linkcode ConfigError} naming the key.
 */
export function loadCentralConfig(
  fileText: string,
  env: Readonly<Record<string, string | undefined>>,
  overrides: Readonly<Partial<Record<Key, string>>> = {},
): CentralConfig {
  let parsed: Record<string, unknown>;
  try {
    parsed = ini.parse(fileText);
  } catch (error) {
    throw new ConfigError("config.ini", "cannot be parsed", { cause: error });
  }
  const section =
    (typeof parsed.DEFAULT === "object" && parsed.DEFAULT !== null
      ? parsed.DEFAULT
      : {}) as Record<string, unknown>;
  const get = (key: Key): string => {
    const spec: KeySpec = KEYS[key];
    const value = overrides[key] ?? env[key] ?? section[key] ?? parsed[key] ??
      spec.fallback;
    if (value === undefined || value === "") {
      const hint = spec.hint === undefined ? "" : `; ${spec.hint}`;
      throw new ConfigError(
        key,
        `is missing (set it in config.ini or the environment${hint})`,
      );
    }
    if (typeof value !== "string") {
      throw new ConfigError(key, "must be a single value");
    }
    return value.trim();
  };
  const level = get("LOGGING_LEVEL").toUpperCase();
  if (!isLevel(level)) {
    throw new ConfigError(
      "LOGGING_LEVEL",
      `"${level}" is not one of ${LEVELS.join(", ")}`,
    );
  }
  const idle = get("IDLE_TIMEOUT");
  let idleNs: number;
  try {
    idleNs = parseDuration(idle);
  } catch (error) {
    throw new ConfigError("IDLE_TIMEOUT", (error as Error).message, {
      cause: error,
    });
  }
  if (idleNs < 1e6) {
    throw new ConfigError("IDLE_TIMEOUT", `"${idle}" is shorter than 1ms`);
  }
  const authSecret = get("AUTH_SECRET");
  if (authSecret.length < MIN_SECRET_LENGTH) {
    // The message never quotes the secret.
    throw new ConfigError(
      "AUTH_SECRET",
      `is ${authSecret.length} characters long, shorter than ${MIN_SECRET_LENGTH} (make one with \`openssl rand -hex 32\`)`,
    );
  }
  return {
    port: parseIntegerValue("SERVER_PORT", get("SERVER_PORT"), 0, 65535),
    serverIp: get("SERVER_IP"),
    listenIp: get("LISTEN_IP"),
    listenBacklog: parseIntegerValue(
      "SERVER_LISTEN_BACKLOG",
      get("SERVER_LISTEN_BACKLOG"),
      1,
      65535,
    ),
    loggingLevel: level,
    agencies: parseIntegerValue("AGENCIES", get("AGENCIES"), 1, 100_000),
    workers: parseIntegerValue("WORKERS", get("WORKERS"), 1, 64),
    storageDir: get("STORAGE_DIR"),
    maxConnections: parseIntegerValue(
      "MAX_CONNECTIONS",
      get("MAX_CONNECTIONS"),
      1,
      1_000_000,
    ),
    idleTimeoutMs: Math.round(idleNs / 1e6),
    authSecret,
  };
}
