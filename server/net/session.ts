import type { ActionLog } from "../../lib/log.ts";
import { writeAll } from "../../lib/net.ts";
import { Watchdog } from "../../lib/watchdog.ts";
import { BufferedReader } from "../../protocol/buffered_reader.ts";
import {
  HEADER_SIZE,
  MAX_FRAME_SIZE,
  readFrameAfterHeader,
} from "../../protocol/frame.ts";
import {
  decodeMessage,
  encodeMessage,
  isKnownMessageType,
  isRequest,
  type Response,
} from "../../protocol/messages.ts";
import { ProtocolError } from "../../protocol/protocol_error.ts";
import type { Peer, RequestHandler } from "./handlers.ts";
import { ReplyQueue } from "./reply_queue.ts";

/**
 * Batches a session reads ahead of their acknowledgements. Above an
 * agency's window (192), so a well-behaved agency never waits on it.
 */
export const MAX_IN_FLIGHT = 256;

/**
 * Bytes of uncommitted batches a worker holds before its sessions stop
 * reading ahead. 4 MB keeps groups large (a few hundred kB each in
 * practice) and the writer's spools small; 8 MB was no faster and cost the
 * central about 15 MB more at 100 agencies.
 */
export const MAX_BACKLOG_BYTES = 4 << 20;

/** A connection's read buffer: two frames. */
const READER_CAPACITY = 2 * MAX_FRAME_SIZE;

/**
 * After 1 MB from one peer its read buffer grows to 64 kB: a quarter of
 * the reads for an agency that sends a large file (the central's CPU at
 * 100 × 100,000 bets 6.19–6.72 → 6.17–6.40 s in three interleaved runs; a
 * small gain), while the many small connections of 1,000 agencies keep
 * 16 kB each.
 */
const READER_GROWS_AFTER = 1 << 20;
const READER_GROWN = 64 << 10;

/** Longest echo line served (the skeleton's messages are far shorter). */
export const MAX_ECHO_LINE = MAX_FRAME_SIZE;

/**
 * True when the first byte of a connection starts a frame: every message
 * type is an ASCII control byte other than TAB, LF and CR. Anything else
 * (text, as netcat sends) is served as an echo line.
 */
export function startsFrame(firstByte: number): boolean {
  return firstByte < 0x20 && firstByte !== 0x09 && firstByte !== 0x0a &&
    firstByte !== 0x0d;
}

/** What a session needs besides its connection. */
export interface SessionOptions {
  /** Answers requests. */
  readonly handler: RequestHandler;
  /**
   * Bytes of batches the worker has read and not yet committed, across its
   * sessions. Above {@linkcode MAX_BACKLOG_BYTES} a session stops reading
   * ahead, so memory stays flat however many agencies send at once.
   */
  readonly backlogBytes: () => number;
  /** Where the session's lines go. */
  readonly log: ActionLog;
  /** Longest silence allowed between frames, and for a frame to complete. */
  readonly idleTimeoutMs: number;
}

/**
 * One accepted connection: decides between echo and frames from the first
 * byte, then reads a frame, dispatches it, replies, until the peer closes,
 * breaks the protocol, goes silent, or the worker stops. Never throws.
 */
export class Session implements AsyncDisposable {
  readonly #conn: Deno.Conn;
  readonly #options: SessionOptions;
  readonly #peer: Peer;
  #waiting = false;
  #stopping = false;
  #closed = false;
  #timedOut = false;
  /** The deadline of the error reply sent before closing. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The idle deadline of the read in progress (one timer, not one per read). */
  readonly #idle = new Watchdog(() => {
    this.#timedOut = true;
    this.#close();
  });
  #replies: ReplyQueue | null = null;
  /** Settles when the session has ended. */
  readonly done: Promise<void>;

  /** Starts serving `conn` at once. */
  constructor(conn: Deno.Conn, options: SessionOptions) {
    this.#conn = conn;
    this.#options = options;
    const address = conn.remoteAddr as Deno.NetAddr;
    this.#peer = { ip: address.hostname ?? "unknown", agency: null };
    this.done = this.#serve();
  }

  /** The peer's address. */
  get ip(): string {
    return this.#peer.ip;
  }

  /**
   * Asks the session to end: at once if it is waiting for the peer,
   * otherwise after the reply it is working on.
   */
  stop(): void {
    this.#stopping = true;
    if (!this.#waiting) return;
    const replies = this.#replies;
    if (replies === null || replies.size === 0) this.#close();
    else void replies.idle().then(() => this.#close());
  }

  /** Closes the connection now and waits for the session to end. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#stopping = true;
    this.#close();
    await this.done;
  }

  async #serve(): Promise<void> {
    const { log } = this.#options;
    const reader = new BufferedReader(this.#conn, READER_CAPACITY, {
      after: READER_GROWS_AFTER,
      to: READER_GROWN,
    });
    try {
      const first = await this.#wait(() => reader.peekByte());
      if (first === null) return;
      if (startsFrame(first)) await this.#serveFrames(reader);
      else await this.#serveEcho(reader);
    } catch (error) {
      const answer = this.#report(error);
      if (answer !== null) await this.#trySend(answer);
    } finally {
      this.#idle[Symbol.dispose]();
      clearTimeout(this.#timer);
      this.#close();
      log.debug("connection_closed", "success", { ip: this.#peer.ip });
    }
  }

  async #serveEcho(reader: BufferedReader): Promise<void> {
    const line = await this.#wait(() => reader.readLine(MAX_ECHO_LINE));
    if (line === null) return;
    await writeAll(this.#conn, line);
    const text = new TextDecoder().decode(line).replace(/\r?\n$/, "");
    this.#options.log.info("receive_message", "success", {
      ip: this.#peer.ip,
      msg: text,
    });
  }

  async #serveFrames(reader: BufferedReader): Promise<void> {
    const { handler, log } = this.#options;
    const options = { isKnownType: isKnownMessageType };
    const replies = new ReplyQueue(this.#conn, (error) => {
      if (error !== null) {
        log.warning("connection_lost", "fail", {
          ip: this.#peer.ip,
          error: (error as Error).message,
        });
      }
      // A refusal was sent, or the peer is gone: stop reading.
      this.#stopping = true;
      this.#close();
    });
    this.#replies = replies;
    let served = 0;
    try {
      while (!this.#stopping) {
        let header: Uint8Array | null;
        try {
          header = await this.#wait(() => reader.readExact(HEADER_SIZE));
        } catch (error) {
          // Silence after complete exchanges is an idle connection, not a fault.
          if (
            error instanceof TimeoutError && served > 0 &&
            reader.buffered === 0 && replies.size === 0
          ) {
            log.info("connection_idle_closed", "success", {
              ip: this.#peer.ip,
              idle_ms: this.#options.idleTimeoutMs,
            });
            return;
          }
          throw error;
        }
        if (header === null) return;
        const frame = await this.#wait(
          () => readFrameAfterHeader(reader, header, options),
          true,
        );
        const message = decodeMessage(frame);
        if (!isRequest(message)) {
          throw new UnexpectedMessageError(message.kind);
        }
        served++;
        if (message.kind === "batch") {
          // Read on while the batch is committed; its ack keeps its place.
          replies.push(handler(message, this.#peer));
          if (
            replies.size >= MAX_IN_FLIGHT ||
            this.#options.backlogBytes() > MAX_BACKLOG_BYTES
          ) await replies.idle();
          continue;
        }
        // Anything else waits for the batches before it (a finish counts them).
        await replies.idle();
        if (replies.closing) return;
        replies.push(handler(message, this.#peer));
        await replies.idle();
      }
    } finally {
      // Batches already read are stored whatever happens; their acks go out
      // if the connection still takes them.
      await replies.idle();
    }
  }

  /** Runs a read with the idle deadline armed; a timeout closes the connection. */
  async #wait<T>(read: () => Promise<T>, midFrame = false): Promise<T> {
    if (this.#stopping && !midFrame) throw new StopRequested();
    this.#waiting = !midFrame;
    this.#idle.arm(this.#options.idleTimeoutMs);
    try {
      return await read();
    } catch (error) {
      if (this.#timedOut) {
        throw new TimeoutError(this.#options.idleTimeoutMs, error);
      }
      if (this.#stopping) throw new StopRequested();
      throw error;
    } finally {
      this.#idle.disarm();
      this.#waiting = false;
    }
  }

  async #send(messages: readonly Response[]): Promise<void> {
    const frames = messages.map(encodeMessage);
    const total = frames.reduce((n, f) => n + f.length, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const frame of frames) {
      bytes.set(frame, at);
      at += frame.length;
    }
    await writeAll(this.#conn, bytes);
  }

  /** Logs why the session ended; returns the error reply owed to the peer, if any. */
  #report(error: unknown): Response | null {
    const { log } = this.#options;
    const ip = this.#peer.ip;
    if (error instanceof StopRequested) return null;
    if (error instanceof TimeoutError) {
      log.error("receive_message", "fail", { ip, error: error.message });
      return null;
    }
    if (error instanceof ProtocolError) {
      log.error("receive_message", "fail", { ip, error: error.message });
      const code = error instanceof UnexpectedMessageError
        ? "unexpectedMessage"
        : "malformedFrame";
      return { kind: "error", code, message: error.message };
    }
    if (error instanceof RangeError) {
      // An echo line with no line feed within the limit.
      log.error("receive_message", "fail", { ip, error: error.message });
      return null;
    }
    if (
      error instanceof Deno.errors.ConnectionReset ||
      error instanceof Deno.errors.BrokenPipe ||
      error instanceof Deno.errors.BadResource ||
      error instanceof Deno.errors.Interrupted
    ) {
      log.warning("connection_lost", "fail", { ip, error: error.message });
      return null;
    }
    log.error("session", "fail", { ip, error: String(error) });
    return {
      kind: "error",
      code: "internal",
      message: "Cannot serve request: internal error",
    };
  }

  /** Sends an error reply before closing, within the idle deadline. */
  async #trySend(message: Response): Promise<void> {
    if (this.#closed) return;
    this.#timer = setTimeout(() => this.#close(), this.#options.idleTimeoutMs);
    try {
      await this.#send([message]);
    } catch (error) {
      this.#options.log.debug("send_error_reply", "fail", {
        ip: this.#peer.ip,
        error: String(error),
      });
    }
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }
}

/** A peer sent a message that only the central sends. */
class UnexpectedMessageError extends ProtocolError {
  constructor(kind: string) {
    super(
      "malformed",
      `Cannot serve a ${kind} message: only the central sends it`,
    );
    this.name = "UnexpectedMessageError";
  }
}

class StopRequested extends Error {
  constructor() {
    super("Cannot keep serving: the worker is stopping");
    this.name = "StopRequested";
  }
}

class TimeoutError extends Error {
  constructor(ms: number, cause: unknown) {
    super(`Cannot read from peer: silent for ${ms} ms`, { cause });
    this.name = "TimeoutError";
  }
}
