/**
 * One connection of a worker: echo or frames, read, dispatch, reply.
 *
 * @module
 */
import { Timer } from "../../lib/timer.ts";
import { Watchdog } from "../../lib/watchdog.ts";
import { BufferedReader } from "../../protocol/buffered_reader.ts";
import { HEADER_SIZE, readFrameAfterHeader } from "../../protocol/frame.ts";
import {
  decodeMessage,
  isKnownMessageType,
  isRequest,
  type Message,
  type Response,
} from "../../protocol/messages.ts";
import { serveEcho, startsFrame } from "./echo_probe.ts";
import type { Peer } from "./handlers.ts";
import { OpeningExchange } from "./opening_exchange.ts";
import { ReplyQueue, WriteStalledError } from "./reply_queue.ts";
import { endReply } from "./session_end.ts";
import {
  StopRequested,
  TimeoutError,
  UnexpectedMessageError,
} from "./session_errors.ts";
import {
  MAX_BACKLOG_BYTES,
  MAX_IN_FLIGHT,
  MAX_UNSENT_BYTES,
  READER_CAPACITY,
  READER_GROWN,
  READER_GROWS_AFTER,
} from "./session_limits.ts";
import type { SessionOptions } from "./session_options.ts";

export type { OpeningOptions, SessionOptions } from "./session_options.ts";
export { HANDSHAKE_TIMEOUT_MS } from "./session_options.ts";
export { MAX_ECHO_LINE, startsFrame } from "./echo_probe.ts";
export {
  MAX_BACKLOG_BYTES,
  MAX_IN_FLIGHT,
  MAX_UNSENT_BYTES,
} from "./session_limits.ts";

/**
 * Where a session is; every change of state is in one of its methods:
 * - `busy`: reading a frame, or working on a request;
 * - `waiting`: waiting for the peer between requests (a stop closes the
 *   connection at once, once the replies owed are written);
 * - `stopping`: asked to end; it ends after the reply it works on;
 * - `ending`: done serving, sending its last error reply, if one is owed;
 * - `closed`: the connection is closed; `timedOut`: closed because the
 *   peer was silent past the idle deadline.
 */
type SessionState =
  | "busy"
  | "waiting"
  | "stopping"
  | "ending"
  | "closed"
  | "timedOut";

/**
 * One accepted connection: decides between echo and frames from the first
 * byte, then reads a frame, dispatches it, replies, until the peer closes,
 * breaks the protocol, goes silent, or the worker stops. A framed
 * connection first proves its agency (hello, challenge, proof, welcome);
 * until then any other frame is refused as `unauthenticated`, and after
 * it the connection acts only for that agency. Everything it sends goes
 * through its {@linkcode ReplyQueue}. Never throws.
 */
export class Session implements AsyncDisposable {
  readonly #conn: Deno.Conn;
  readonly #options: SessionOptions;
  readonly #ip: string;
  /** Who the requests come from, once the opening proof bound its agency. */
  #peer: Peer | null = null;
  /** The opening exchange, which binds the connection to its agency. */
  readonly #exchange: OpeningExchange;
  #state: SessionState = "busy";
  /** Called once the connection has proven its agency. */
  readonly #onProven: () => void;
  /** Sent away to make room (see {@linkcode Session.evict}): ends quietly. */
  #evicted = false;
  /** The hold of an evicted connection before its `busy` (see `evict`). */
  #hold: Timer | null = null;
  /** The deadline of the error reply sent before closing. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The idle deadline of the read in progress (one timer, not one per read). */
  readonly #idle = new Watchdog(() => this.#close("timedOut"));
  readonly #replies: ReplyQueue;
  /** Settles when the session has ended. */
  readonly done: Promise<void>;

  /**
   * Starts serving `conn` at once.
   *
   * @param conn the accepted connection
   * @param options what the session needs besides it
   * @param onProven called once the connection has proven its agency
   */
  constructor(
    conn: Deno.Conn,
    options: SessionOptions,
    onProven: () => void = () => {},
  ) {
    this.#conn = conn;
    this.#options = options;
    this.#onProven = onProven;
    const address = conn.remoteAddr as Deno.NetAddr;
    this.#ip = address.hostname ?? "unknown";
    this.#replies = new ReplyQueue(conn, (error) => this.#repliesEnded(error), {
      writeTimeoutMs: options.idleTimeoutMs,
    });
    this.#exchange = new OpeningExchange(options, this.#replies, this.#ip);
    this.done = this.#serve();
  }

  /** The peer's address. */
  get ip(): string {
    return this.#ip;
  }

  /**
   * Asks the session to end: at once if it is waiting for the peer,
   * otherwise after the reply it is working on.
   */
  stop(): void {
    const waiting = this.#state === "waiting";
    if (waiting || this.#state === "busy") this.#state = "stopping";
    if (!waiting) return;
    const replies = this.#replies;
    if (replies.size === 0) this.#close();
    else void replies.idle().then(() => this.#close());
  }

  /**
   * Sends a connection that has not proven its agency away, to make room
   * for a newer one: after `hold()` ms (during which nothing more of it is
   * served), the `busy` error, saying to come back after `retryAfterMs`,
   * then the close; nothing is logged for it. Only while it waits for its
   * peer: a connection whose proof is being checked, or that is proven, is
   * kept (false, and `hold` is not called).
   */
  evict(retryAfterMs: number, hold: () => number = () => 0): boolean {
    if (this.#peer !== null || this.#state !== "waiting") return false;
    this.#evicted = true;
    this.#state = "stopping";
    const busy = () => {
      // Closed meanwhile (its deadline passed): nothing to say.
      if (this.#state === "closed" || this.#state === "timedOut") return;
      this.#replies.push(Promise.resolve({
        messages: [{
          kind: "error",
          code: "busy",
          message:
            "Cannot keep the connection: it has not proven an agency and newer ones wait; try again later",
          retryAfterMs,
        }],
        close: true,
      }));
    };
    const holdMs = hold();
    if (holdMs > 0) this.#hold = new Timer(holdMs, busy);
    else busy();
    return true;
  }

  /** Closes the connection now and waits for the session to end. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#close();
    await this.done;
  }

  /** The reply queue stopped writing: a refusal was sent, or the peer is gone. */
  #repliesEnded(error: unknown): void {
    if (error instanceof WriteStalledError) {
      this.#options.log.warning("connection_stalled", "fail", {
        ip: this.#ip,
        error: error.message,
      });
    } else if (error !== null) {
      if (this.#state === "ending") {
        this.#options.log.debug("send_error_reply", "fail", {
          ip: this.#ip,
          error: String(error),
        });
      } else {
        this.#options.log.warning("connection_lost", "fail", {
          ip: this.#ip,
          error: (error as Error).message,
        });
      }
    }
    this.#close();
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
      else {
        await serveEcho(
          reader,
          this.#replies,
          (read) => this.#wait(read),
          this.#options.log,
          this.#ip,
          this.#options.echoLines,
        );
      }
    } catch (error) {
      const answer = this.#report(error);
      if (answer?.kind === "error") this.#options.onRefusal?.(answer.code);
      if (answer !== null) await this.#sendLast(answer);
    } finally {
      this.#idle[Symbol.dispose]();
      this.#replies[Symbol.dispose]();
      this.#peer?.resends.end();
      this.#hold?.cancel();
      clearTimeout(this.#timer);
      this.#close();
      log.debug("connection_closed", "success", { ip: this.#ip });
    }
  }

  async #serveFrames(reader: BufferedReader): Promise<void> {
    const { handler, log } = this.#options;
    const options = { isKnownType: isKnownMessageType };
    const replies = this.#replies;
    try {
      while (this.#state === "busy") {
        let header: Uint8Array | null;
        try {
          header = await this.#wait(() => reader.readExact(HEADER_SIZE));
        } catch (error) {
          // Silence after complete exchanges is an idle connection, not a fault.
          if (
            error instanceof TimeoutError && this.#peer !== null &&
            reader.buffered === 0 && replies.size === 0
          ) {
            log.info("connection_idle_closed", "success", {
              ip: this.#ip,
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
        const peer = this.#peer;
        if (peer === null) {
          await this.#open(message);
          continue;
        }
        if (!isRequest(message)) {
          throw new UnexpectedMessageError(
            message.kind,
            message.kind === "hello" || message.kind === "proof"
              ? "the connection is open already"
              : "only the central sends it",
          );
        }
        if (message.kind === "batch") {
          // Read on while the batch is committed; its ack keeps its place.
          replies.push(handler(message, peer));
          if (
            replies.size >= MAX_IN_FLIGHT ||
            replies.unsentBytes > MAX_UNSENT_BYTES ||
            this.#options.backlogBytes() > MAX_BACKLOG_BYTES
          ) await replies.idle();
          continue;
        }
        // Anything else waits for the batches before it (a finish counts them).
        await replies.idle();
        if (replies.closing) return;
        replies.push(handler(message, peer));
        await replies.idle();
      }
    } finally {
      // Batches already read are stored whatever happens; their acks go out
      // if the connection still takes them.
      await replies.idle();
    }
  }

  /** One step of the opening exchange; once proven, the connection is bound. */
  async #open(message: Message): Promise<void> {
    // Evicted while its frame was read: it is served no more.
    if (this.#evicted) throw new StopRequested();
    const peer = await this.#exchange.step(message);
    if (peer === null) return;
    this.#peer = peer;
    this.#onProven();
  }

  /** The deadline of each read: until the proof is due, if not proven yet. */
  #deadlineMs(): number {
    const { idleTimeoutMs } = this.#options;
    if (this.#peer !== null) return idleTimeoutMs;
    return this.#exchange.deadlineMs();
  }

  /** Runs a read with the idle deadline armed; a timeout closes the connection. */
  async #wait<T>(read: () => Promise<T>, midFrame = false): Promise<T> {
    if (!midFrame) {
      if (this.#state !== "busy") throw new StopRequested();
      this.#state = "waiting";
    }
    const deadline = this.#deadlineMs();
    this.#idle.arm(deadline);
    try {
      return await read();
    } catch (error) {
      if (this.#state === "timedOut") {
        throw this.#peer === null
          ? new TimeoutError(this.#exchange.handshakeMs(), true, error)
          : new TimeoutError(deadline, false, error);
      }
      if (this.#state === "stopping" || this.#state === "closed") {
        throw new StopRequested();
      }
      throw error;
    } finally {
      this.#idle.disarm();
      if (this.#state === "waiting") this.#state = "busy";
    }
  }

  /** Logs why the session ended; returns the error reply owed to the peer, if any. */
  #report(error: unknown): Response | null {
    if (this.#evicted) return null;
    return endReply(
      error,
      this.#options.log,
      this.#ip,
      (action, message) => this.#fail(action, message),
    );
  }

  /**
   * The fail line of a peer's fault; before the connection proved an
   * agency, through the opening's {@linkcode FailureLog}, which bounds how
   * many lines a burst of failed attempts writes.
   */
  #fail(action: string, error: string): void {
    if (this.#peer === null) {
      this.#options.opening.failures.report(action, this.#ip, error);
    } else {
      this.#options.log.error(action, "fail", { ip: this.#ip, error });
    }
  }

  /** Sends an error reply before closing, within the idle deadline. */
  async #sendLast(message: Response): Promise<void> {
    if (this.#state === "closed" || this.#state === "timedOut") return;
    this.#state = "ending";
    // Past the deadline the write is cut short; the session stays ending.
    this.#timer = setTimeout(
      () => this.#closeConn(),
      this.#options.idleTimeoutMs,
    );
    this.#replies.push(Promise.resolve({ messages: [message], close: true }));
    await this.#replies.idle();
  }

  #close(end: "closed" | "timedOut" = "closed"): void {
    if (this.#state === "closed" || this.#state === "timedOut") return;
    this.#state = end;
    this.#closeConn();
  }

  #closeConn(): void {
    try {
      this.#conn.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }
}
