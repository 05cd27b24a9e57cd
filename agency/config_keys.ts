/**
 * The agency's keys: the effective configuration's shape, and each key's
 * config.yaml path, `CLI_*` environment variable, flag, default and help.
 *
 * @module
 */
import type { CentralAddress } from "./central_addresses.ts";
import { formatDuration } from "../lib/duration.ts";
import { type Level, LEVELS } from "../lib/log.ts";
import type { WireBet } from "../protocol/messages.ts";
import { DEFAULT_DRAW_TIMEOUT_MS } from "./lottery_stage.ts";

/** The agency's stages: the skeleton's echo loop, one bet, or the whole lottery. */
export const MODES = ["echo", "bet", "lottery"] as const;

/** One of {@linkcode MODES}. */
export type Mode = typeof MODES[number];

/**
 * Default `batch.maxAmount`. A bet of the course's data takes about 48
 * bytes in a frame (40 to 70), so 160 of them fill most of an 8 kB frame;
 * a batch is cut early anyway if long names would pass the limit. Fuller
 * frames mean fewer messages, acknowledgements and log lines per bet.
 */
export const DEFAULT_BATCH_MAX_AMOUNT = 160;

/** The agency's effective configuration. */
export interface AgencyConfig {
  /** `id` / `CLI_ID`: the agency number, 1…AGENCIES of the central. */
  readonly id: number;
  /** `server.address` / `CLI_SERVER_ADDRESS`, as written (`host:port`, or several, comma-separated). */
  readonly serverAddress: string;
  /** Every central of the list, in order (the first is `hostname:port`). */
  readonly addresses: readonly CentralAddress[];
  /** The host part of the (first) server address. */
  readonly hostname: string;
  /** The port part of the server address. */
  readonly port: number;
  /** `loop.amount` / `CLI_LOOP_AMOUNT`: echo messages to send. */
  readonly loopAmount: number;
  /** `loop.period` / `CLI_LOOP_PERIOD`, in nanoseconds. */
  readonly loopPeriodNs: number;
  /** `log.level` / `CLI_LOG_LEVEL`. */
  readonly logLevel: Level;
  /** `batch.maxAmount` / `CLI_BATCH_MAXAMOUNT`: most bets per batch. */
  readonly batchMaxAmount: number;
  /** `mode` / `CLI_MODE`: which stage to run (default `lottery`). */
  readonly mode: Mode;
  /** `data.path` / `CLI_DATA_PATH`: the agency's CSV (default `./agency.csv`). */
  readonly dataPath: string;
  /** `retry.attempts` / `CLI_RETRY_ATTEMPTS`: tries per request before giving up (default 12). */
  readonly retryAttempts: number;
  /** The bet of the bet stage, from `NOMBRE` … `NUMERO` (bet mode only). */
  readonly bet: WireBet | null;
  /**
   * `auth.key` / `CLI_AUTH_KEY`: the agency's key, 64 hex digits (required
   * but in echo mode, which sends no frame; `null` there). Never logged.
   */
  readonly authKey: string | null;
  /** `draw.timeout` / `CLI_DRAW_TIMEOUT`, in nanoseconds: the longest wait for the draw. */
  readonly drawTimeoutNs: number;
}

/** How one key is given: file path, environment variable, flag, default, help. */
export interface KeySpec {
  /** Its place in config.yaml. */
  readonly path: readonly string[];
  /** Its environment variable. */
  readonly env: string;
  /** Its flag; none for the key (a flag shows in `ps` to every user). */
  readonly flag?: string;
  /** Its documented default; none: the key is required. */
  readonly fallback?: string;
  /** One line for `--help`. */
  readonly help: string;
}

/** Every key: its place in config.yaml, environment variable, flag, documented default (none: required) and meaning. */
export const KEYS = {
  id: {
    path: ["id"],
    env: "CLI_ID",
    flag: "id",
    help: "agency number, 1…AGENCIES (compose sets CLI_ID)",
  },
  serverAddress: {
    path: ["server", "address"],
    env: "CLI_SERVER_ADDRESS",
    flag: "server-address",
    help: "host:port of the central (on the host: 127.0.0.1:12345); " +
      "several centrals: host:port,host:port (the next after a failure)",
  },
  loopAmount: {
    path: ["loop", "amount"],
    env: "CLI_LOOP_AMOUNT",
    flag: "loop-amount",
    help: "echo messages",
  },
  loopPeriod: {
    path: ["loop", "period"],
    env: "CLI_LOOP_PERIOD",
    flag: "loop-period",
    help: "pause after each echo; wait between queries (Go duration)",
  },
  logLevel: {
    path: ["log", "level"],
    env: "CLI_LOG_LEVEL",
    flag: "log-level",
    help: LEVELS.join(", "),
  },
  batchMaxAmount: {
    path: ["batch", "maxAmount"],
    env: "CLI_BATCH_MAXAMOUNT",
    flag: "batch-max-amount",
    fallback: String(DEFAULT_BATCH_MAX_AMOUNT),
    help: "bets per batch (a batch is also cut before 8 kB)",
  },
  mode: {
    path: ["mode"],
    env: "CLI_MODE",
    flag: "mode",
    fallback: "lottery",
    help: MODES.join(", "),
  },
  dataPath: {
    path: ["data", "path"],
    env: "CLI_DATA_PATH",
    flag: "data-path",
    fallback: "./agency.csv",
    help: "the agency's CSV (image: /data/agency.csv, where compose mounts it)",
  },
  retryAttempts: {
    path: ["retry", "attempts"],
    env: "CLI_RETRY_ATTEMPTS",
    flag: "retry-attempts",
    fallback: "12",
    help: "tries per request (backoff 100 ms doubling to 5 s)",
  },
  authKey: {
    path: ["auth", "key"],
    env: "CLI_AUTH_KEY",
    help:
      "the agency's key, 64 hex digits (`central agency-key K`); environment or config.yaml only, never a flag; not needed in echo mode",
  },
  drawTimeout: {
    path: ["draw", "timeout"],
    env: "CLI_DRAW_TIMEOUT",
    flag: "draw-timeout",
    fallback: formatDuration(DEFAULT_DRAW_TIMEOUT_MS * 1e6),
    help: "longest wait for the draw after finishing (Go duration)",
  },
} as const satisfies Record<string, KeySpec>;

/** A key of {@linkcode KEYS}. */
export type Key = keyof typeof KEYS;

/** The environment variables of the bet stage, by bet field. */
export const BET_ENV = {
  firstName: "NOMBRE",
  lastName: "APELLIDO",
  document: "DOCUMENTO",
  birthdate: "NACIMIENTO",
  number: "NUMERO",
} as const;
