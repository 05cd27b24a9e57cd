/**
 * The agency's connection to the central: dialing with retries, the
 * opening handshake, requests and their answers, the batch window.
 *
 * @module
 */
import type { ProvenHello } from "../lib/agency_auth.ts";
import { Backoff } from "../lib/backoff.ts";
import type { ActionLog } from "../lib/log.ts";
import { concatBytes } from "../lib/concat_bytes.ts";
import { writeAll } from "../lib/net.ts";
import { Timer } from "../lib/timer.ts";
import { Watchdog } from "../lib/watchdog.ts";
import { BufferedReader } from "../protocol/buffered_reader.ts";
import type { Response } from "../protocol/messages.ts";
import {
  isNetworkError,
  readResponse,
  TransientRefusal,
} from "./central_answers.ts";
import { type CentralAddress, CentralAddresses } from "./central_addresses.ts";
import type { BatchFrame } from "./bet_file.ts";
import { expectAnswer } from "./central_refused_error.ts";
import { openConnection } from "./handshake.ts";

/** Opens a TCP connection (`Deno.connect` unless the caller passes another). */
export type Dialer = (hostname: string, port: number) => Promise<Deno.Conn>;

/** Retry, timeout and key settings of {@linkcode CentralClient}. */
export interface ClientOptions {
  /** Attempts per request before giving up (first try included). */
  readonly attempts: number;
  /** Pause before the first retry; doubles up to `maxBackoffMs`. */
  readonly initialBackoffMs: number;
  /** Longest pause between retries. */
  readonly maxBackoffMs: number;
  /** How long to wait for the central's answer before reconnecting. */
  readonly responseTimeoutMs: number;
  /** Opens connections. */
  readonly dial: Dialer;
  /** The agency's key (`auth.key`), for the proof; none: connecting fails. */
  readonly key: string | null;
  /**
   * How long the agency keeps coming back, when the central says `busy`
   * and when to retry (a crowd at its door), before giving up; these
   * refusals count no attempt.
   */
  readonly busyPatienceMs: number;
  /** Further centrals (sharing one database), tried in turn after a failure. */
  readonly others: readonly CentralAddress[];
}

/** Defaults: about a minute of retries in all, for a central that restarts. */
export const DEFAULT_CLIENT_OPTIONS: ClientOptions = {
  attempts: 12,
  initialBackoffMs: 100,
  maxBackoffMs: 5_000,
  responseTimeoutMs: 60_000,
  dial: (hostname, port) => Deno.connect({ hostname, port }),
  key: null,
  busyPatienceMs: 10 * 60_000,
  others: [],
};

/** The central could not be reached, or kept failing, after every attempt. */
export class CentralUnreachableError extends Error {
  /**
   * An error for a central that every attempt failed to reach.
   *
   * @param message `Cannot <action>: <state>`
   * @param options the last network error
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CentralUnreachableError";
  }
}

/** The agency was told to stop (SIGTERM) while talking to the central. */
export class StoppedError extends Error {
  constructor() {
    super("Cannot continue: the agency is stopping");
    this.name = "StoppedError";
  }
}

/**
 * The agency's connection to the central. Every request of the protocol is
 * safe to repeat (batches carry a sequence number, finishing is idempotent,
 * queries change nothing), so a request that fails on the network is sent
 * again on a new connection, with exponential backoff, until it succeeds or
 * the attempts run out. One connection is kept open between requests;
 * each one opens with the handshake of `handshake.ts`, for the stream
 * given to {@linkcode CentralClient.announce}.
 */
export class CentralClient implements Disposable {
  readonly #centrals: CentralAddresses;
  readonly #log: ActionLog;
  readonly #options: ClientOptions;
  readonly #stop: AbortSignal;
  #conn: Deno.Conn | null = null;
  #reader: BufferedReader | null = null;
  #hello: ProvenHello | null = null;
  /** When the central's run of `busy` refusals began, or null. */
  #busySince: number | null = null;

  /**
   * A client of the central at `hostname:port`, then of `options.others`;
   * it connects when first used.
   *
   * @param hostname the (first) central's host
   * @param port the (first) central's port
   * @param log where connection lines go
   * @param stop aborts waits and closes the connection when the agency stops
   * @param options retry settings (defaults: {@linkcode DEFAULT_CLIENT_OPTIONS})
   */
  constructor(
    hostname: string,
    port: number,
    log: ActionLog,
    stop: AbortSignal,
    options: Partial<ClientOptions> = {},
  ) {
    this.#log = log;
    this.#stop = stop;
    this.#options = { ...DEFAULT_CLIENT_OPTIONS, ...options };
    this.#centrals = new CentralAddresses([
      { hostname, port },
      ...this.#options.others,
    ]);
    stop.addEventListener("abort", () => this.#disconnect(), { once: true });
  }

  /**
   * Names the stream every connection will announce in its hello: the
   * agency, its bets' total and digest. Call it before the first request.
   */
  announce(hello: ProvenHello): void {
    this.#hello = hello;
  }

  /**
   * Sends one request frame and returns the central's answer: one message,
   * or, for a winners query, every `winners` message up to the last one.
   * Throws {@linkcode CentralUnreachableError} after the last attempt,
   * {@linkcode StoppedError} if the agency stops, and
   * {@linkcode ProtocolError} if the central's bytes break the protocol.
   */
  async request(frame: Uint8Array): Promise<Response[]> {
    const backoff = this.#backoff();
    for (;;) {
      if (this.#stop.aborted) throw new StoppedError();
      try {
        return await this.#exchange(frame);
      } catch (error) {
        await this.#recover(error, backoff);
      }
    }
  }

  #backoff(): Backoff {
    return new Backoff(
      this.#options.initialBackoffMs,
      this.#options.maxBackoffMs,
    );
  }

  /**
   * After a failed attempt: disconnects, rethrows what is not worth
   * retrying (or {@linkcode CentralUnreachableError} after the last
   * attempt), otherwise logs and waits the next pause of `backoff`.
   */
  async #recover(error: unknown, backoff: Backoff): Promise<void> {
    const attempt = backoff.failures + 1;
    this.#disconnect();
    if (this.#stop.aborted) throw new StoppedError();
    if (!isNetworkError(error)) throw error;
    if (error instanceof TransientRefusal && error.retryAfterMs > 0) {
      return await this.#comeBack(error);
    }
    const failed = String(this.#centrals);
    // The next central, if there are several: the same request is safe there.
    this.#centrals.advance();
    if (attempt >= this.#options.attempts) {
      throw new CentralUnreachableError(
        `Cannot reach the central at ${failed}: ${attempt} attempts failed (${
          (error as Error).message
        })`,
        { cause: error },
      );
    }
    const delay = backoff.next();
    this.#log.warning("reconnect", "in_progress", {
      attempt,
      ...(this.#centrals.size > 1 ? { next: String(this.#centrals) } : {}),
      delay_ms: delay,
      error: (error as Error).message,
    });
    await sleep(delay, this.#stop);
  }

  /**
   * The central is up but full, and said when to come back: wait that long
   * (0.5 to 1.5 times, so refused agencies do not return together), for
   * up to `busyPatienceMs` in a row.
   */
  async #comeBack(refusal: TransientRefusal): Promise<void> {
    const now = performance.now();
    this.#busySince ??= now;
    const busyMs = Math.round(now - this.#busySince);
    if (busyMs >= this.#options.busyPatienceMs) {
      throw new CentralUnreachableError(
        `Cannot reach the central at ${this.#centrals}: busy for ${busyMs} ms (${refusal.message})`,
        { cause: refusal },
      );
    }
    const delay = Math.round(refusal.retryAfterMs * (0.5 + Math.random()));
    this.#log.warning("reconnect", "in_progress", {
      busy_ms: busyMs,
      delay_ms: delay,
      error: refusal.message,
    });
    await sleep(delay, this.#stop);
  }

  async #exchange(frame: Uint8Array): Promise<Response[]> {
    const { conn, reader } = await this.#connect();
    using _deadline = new Timer(
      this.#options.responseTimeoutMs,
      () => this.#disconnect(),
    );
    await writeAll(conn, frame);
    const responses: Response[] = [];
    for (;;) {
      const message = await readResponse(reader);
      responses.push(message);
      if (message.kind !== "winners" || message.last) return responses;
    }
  }

  /**
   * Sends batch frames with up to `window` of them unacknowledged at once:
   * the central answers in order, so each acknowledgement belongs to the
   * oldest batch in flight. After a network failure (or a transient
   * refusal) it reconnects with backoff and sends every unacknowledged
   * batch again, which the central skips if it had stored it. Calls `onAck`
   * with each batch, in order, and how long its acknowledgement took.
   * Throws like {@linkcode request}, {@linkcode CentralRefusedError} for a
   * refusal, and whatever reading `batches` throws.
   */
  async sendBatches(
    batches: AsyncIterable<BatchFrame>,
    window: number,
    onAck: (batch: BatchFrame, latencyMs: number) => void,
  ): Promise<void> {
    const source = batches[Symbol.asyncIterator]();
    const inFlight: { batch: BatchFrame; sentAt: number }[] = [];
    // One timer for the thousands of acknowledgements, not one per ack.
    using responseDeadline = new Watchdog(() => this.#disconnect());
    let exhausted = false;
    const backoff = this.#backoff();
    for (;;) {
      if (this.#stop.aborted) throw new StoppedError();
      try {
        const { conn, reader } = await this.#connect();
        // After a reconnection, everything unacknowledged goes again.
        if (inFlight.length > 0) {
          const now = performance.now();
          for (const entry of inFlight) entry.sentAt = now;
          await writeAll(conn, concatBytes(inFlight.map((e) => e.batch.frame)));
        }
        for (;;) {
          const fresh: Uint8Array[] = [];
          while (!exhausted && inFlight.length < window) {
            const next = await source.next();
            if (next.done) {
              exhausted = true;
              break;
            }
            inFlight.push({ batch: next.value, sentAt: performance.now() });
            fresh.push(next.value.frame);
          }
          if (fresh.length > 0) await writeAll(conn, concatBytes(fresh));
          const oldest = inFlight[0];
          if (oldest === undefined) return;
          let answer: Response;
          responseDeadline.arm(this.#options.responseTimeoutMs);
          try {
            answer = await readResponse(reader);
          } finally {
            responseDeadline.disarm();
          }
          const ack = expectAnswer([answer], "ack");
          const { batch } = oldest;
          if (ack.first !== batch.first || ack.count !== batch.count) {
            throw new Error(
              `Cannot trust the central: bets ${batch.first}+${batch.count} were acknowledged as ${ack.first}+${ack.count}`,
            );
          }
          inFlight.shift();
          onAck(batch, performance.now() - oldest.sentAt);
          // Progress: a failure from here on is the first of a new series.
          backoff.reset();
        }
      } catch (error) {
        await this.#recover(error, backoff);
      }
    }
  }

  async #connect(): Promise<{ conn: Deno.Conn; reader: BufferedReader }> {
    if (this.#conn === null || this.#reader === null) {
      const hello = this.#hello;
      const key = this.#options.key;
      if (hello === null || key === null) {
        throw new Error(
          `Cannot open a connection: ${
            key === null ? "the agency has no key" : "no stream was announced"
          }`,
        );
      }
      const { hostname, port } = this.#centrals.current;
      const conn = await this.#options.dial(hostname, port);
      if (this.#stop.aborted) {
        conn.close();
        throw new StoppedError();
      }
      const reader = new BufferedReader(conn);
      this.#conn = conn;
      this.#reader = reader;
      let stored: number;
      {
        using _deadline = new Timer(
          this.#options.responseTimeoutMs,
          () => this.#disconnect(),
        );
        stored = await openConnection(
          {
            send: (bytes) => writeAll(conn, bytes),
            receive: () => readResponse(reader),
          },
          hello,
          key,
        );
      }
      this.#busySince = null;
      this.#log.debug("connect", "success", {
        server: String(this.#centrals),
        stored,
      });
    }
    return { conn: this.#conn, reader: this.#reader };
  }

  #disconnect(): void {
    const conn = this.#conn;
    this.#conn = null;
    this.#reader = null;
    if (conn === null) return;
    try {
      conn.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.#conn !== null;
  }

  /** Closes the connection. Idempotent. */
  [Symbol.dispose](): void {
    this.#disconnect();
  }
}

/** Waits `ms`, or less if `signal` aborts (then throws {@linkcode StoppedError}). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new StoppedError());
    const onAbort = () => {
      timer.cancel();
      reject(new StoppedError());
    };
    const timer = new Timer(ms, () => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
