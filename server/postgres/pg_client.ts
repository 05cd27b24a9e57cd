/**
 * The central's connection to PostgreSQL: npm:postgres (postgres.js) with
 * the three fixes its use here needs, each reproduced before: sockets with
 * `TCP_NODELAY` (without it each `COPY` waits ~40 ms for a delayed ACK),
 * a deadline on every unit of work, and a fresh client after any
 * connection error or deadline (its own reconnection can hang after a
 * failover). A connection string may list several hosts; the client
 * follows the writable one (see `pg_options.ts`).
 *
 * @module
 */
import net from "node:net";
import postgres from "postgres";
import { databaseOptions } from "./pg_options.ts";

/** A postgres.js client. */
export type Sql = postgres.Sql;

/** Longest one unit of work (a group commit, a finish, a draw) may take. */
export const DEFAULT_DEADLINE_MS = 30_000;

/** A unit of work that missed its deadline; the client was replaced. */
export class DeadlineError extends Error {
  /**
   * An error for work that missed its `ms` deadline.
   *
   * @param ms the deadline it missed
   */
  constructor(ms: number) {
    super(`Cannot finish database work: no answer within ${ms} ms`);
    this.name = "DeadlineError";
  }
}

/**
 * One replaceable postgres.js client: {@linkcode PgClient.run} gives each
 * unit of work the current client and a deadline, and replaces the client
 * when the work fails for want of a connection.
 */
export class PgClient implements AsyncDisposable {
  readonly #databaseUrl: string;
  readonly #max: number;
  #sql: Sql;
  #closed = false;

  /**
   * A client of `databaseUrl`; it connects on first use.
   *
   * @param databaseUrl a URL (`postgres://…`, hosts comma-separated) or
   * libpq `key=value` connection string
   * @param max most connections this client opens
   */
  constructor(databaseUrl: string, max = 4) {
    this.#databaseUrl = databaseUrl;
    this.#max = max;
    this.#sql = this.#connect();
  }

  /**
   * Runs `work` with the current client within `deadlineMs`. On a missed
   * deadline or a connection error the client is ended (its transactions
   * roll back on the server) and replaced, and the error is thrown.
   */
  async run<T>(
    work: (sql: Sql) => Promise<T>,
    deadlineMs = DEFAULT_DEADLINE_MS,
  ): Promise<T> {
    if (this.#closed) throw new Error("Cannot use the database: closed");
    const sql = this.#sql;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DeadlineError(deadlineMs)),
        deadlineMs,
      );
    });
    try {
      return await Promise.race([work(sql), deadline]);
    } catch (error) {
      if (isConnectionError(error)) this.#replace(sql);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the client; idempotent. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sql.end({ timeout: 1 }).catch(() => {});
  }

  #replace(failed: Sql): void {
    if (this.#sql !== failed || this.#closed) return;
    this.#sql = this.#connect();
    // Its sockets are destroyed at once; whatever it held rolls back.
    failed.end({ timeout: 0 }).catch(() => {});
  }

  #connect(): Sql {
    const { url, options } = databaseOptions(this.#databaseUrl);
    let next = 0;
    const settings: postgres.Options<Record<string, never>> = {
      ...options,
      max: this.#max,
      connect_timeout: 5,
      keep_alive: 5,
      idle_timeout: 0,
      onnotice: () => {},
      // A dead central's transaction (and its locks) ends within seconds:
      // idle, by the timeout; waiting on a vanished host, by keepalives.
      connection: {
        idle_in_transaction_session_timeout: 10_000,
        tcp_keepalives_idle: 5,
        tcp_keepalives_interval: 2,
        tcp_keepalives_count: 3,
      },
      socket: (o: { host: string[]; port: number[]; path?: string }) => {
        const i = next++ % o.host.length;
        const socket = o.path
          ? net.connect(o.path)
          : net.connect(o.port[i] ?? 5432, o.host[i]);
        // Set again once connected: before, the runtime may not apply it.
        const tune = () => {
          socket.setNoDelay(true);
          socket.setKeepAlive(true, 5_000);
        };
        tune();
        socket.once("connect", tune);
        return socket;
      },
    } as postgres.Options<Record<string, never>>;
    return url === null ? postgres(settings) : postgres(url, settings);
  }
}

/** SQLSTATE classes and codes that mean "try again on another connection". */
const RETRY_STATES = ["08", "57P", "25006", "40001", "40P01", "55P03"];

/**
 * True if `error` is a connection's failure (or a deadline, or a server
 * that became read-only or is shutting down): the client is replaced.
 */
export function isConnectionError(error: unknown): boolean {
  if (error instanceof DeadlineError) return true;
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== "string") {
    return !(error instanceof postgres.PostgresError);
  }
  return /^(CONNECT|CONNECTION_|E[A-Z]+$)/.test(code) ||
    RETRY_STATES.some((state) => code.startsWith(state));
}
