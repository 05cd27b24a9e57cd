/**
 * The central's keys: the effective configuration's shape, and each key's
 * config.ini place, environment variable, flag, default and help.
 *
 * @module
 */
import { type Level, LEVELS } from "../lib/log.ts";

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

/** How one key is given: file key, environment variable, flag, default, help. */
export interface KeySpec {
  /** Its command-line flag; none for a secret (a flag shows in `ps`). */
  readonly flag?: string;
  /** Its documented default; none: the key is required. */
  readonly fallback?: string;
  /** One line for `--help`. */
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

/** A key of {@linkcode KEYS}. */
export type Key = keyof typeof KEYS;
