/**
 * The one write path of a connection: its replies, in request order.
 *
 * @module
 */
import { writeAll } from "../../lib/net.ts";
import { Watchdog } from "../../lib/watchdog.ts";
import { encodeMessage } from "../../protocol/messages.ts";
import type { Reply } from "./handlers.ts";

interface Entry {
  /** The reply's bytes, once it is ready. */
  frames: Uint8Array[] | null;
  /** Nothing is written after it. */
  close: boolean;
}

/** Settings and seams of a {@linkcode ReplyQueue}. */
export interface ReplyQueueOptions {
  /**
   * Longest time a write may make no progress (a peer that stopped
   * reading); past it the connection is closed and `onError` gets a
   * {@linkcode WriteStalledError}.
   */
  readonly writeTimeoutMs: number;
  /** The clock, in ms (default `performance.now`). */
  readonly now?: () => number;
}

/**
 * The replies of one connection, written in the order the requests came
 * although they finish out of order: a session reads a batch, queues its
 * reply-to-be and reads on, so batches of one agency overlap their group
 * commits. Replies that are ready together go out in one write. After a
 * reply that closes the connection, nothing more is written. Everything a
 * session sends goes through here: replies, its last error reply, and the
 * answer to an echo line. A reply that cannot be encoded, a failed write,
 * or a write that makes no progress for `writeTimeoutMs` ends this
 * connection only.
 */
export class ReplyQueue implements Disposable {
  readonly #conn: Deno.Conn;
  readonly #onError: (error: unknown) => void;
  readonly #writeTimeoutMs: number;
  readonly #entries: Entry[] = [];
  /** Bytes encoded and not yet written. */
  #unsent = 0;
  #writing = false;
  /** No more is written: a reply closed the connection or a write failed. */
  #closing = false;
  /** `onError` was called. */
  #ended = false;
  #idle: (() => void)[] = [];
  readonly #stall: Watchdog;

  /**
   * An empty queue of replies to `conn`.
   *
   * @param conn where replies are written
   * @param onError called once a write fails or a reply closes the
   *   connection (with `null`); the session then stops reading
   * @param options the write deadline and the clock
   */
  constructor(
    conn: Deno.Conn,
    onError: (error: unknown) => void,
    options: ReplyQueueOptions,
  ) {
    this.#conn = conn;
    this.#onError = onError;
    this.#writeTimeoutMs = options.writeTimeoutMs;
    this.#stall = new Watchdog(() => this.#stalled(), options.now);
  }

  /** Replies queued and not yet written. */
  get size(): number {
    return this.#entries.length;
  }

  /** Bytes of replies ready and not yet written (the peer may not be reading). */
  get unsentBytes(): number {
    return this.#unsent;
  }

  /** True once a reply closed the connection or a write failed. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Queues the reply `pending` will give; a rejection becomes an internal error reply. */
  push(pending: Promise<Reply>): void {
    const entry: Entry = { frames: null, close: false };
    this.#entries.push(entry);
    const ready = (reply: Reply) => {
      try {
        entry.frames = reply.messages.map(encodeMessage);
      } catch (error) {
        this.#fail(error);
        return;
      }
      entry.close = reply.close;
      for (const frame of entry.frames) this.#unsent += frame.length;
      this.#startPump();
    };
    pending.then(ready, (error) =>
      ready({
        messages: [{
          kind: "error",
          code: "internal",
          message: `Cannot serve request: ${(error as Error).message}`,
        }],
        close: true,
      }));
  }

  /** Queues raw bytes (the answer to an echo line), ready at once. */
  pushBytes(bytes: Uint8Array): void {
    this.#entries.push({ frames: [bytes], close: false });
    this.#unsent += bytes.length;
    this.#startPump();
  }

  /** Settles when every queued reply has been written (or dropped after a close). */
  idle(): Promise<void> {
    if (this.#entries.length === 0 && !this.#writing) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops the write deadline (idempotent). */
  [Symbol.dispose](): void {
    this.#stall[Symbol.dispose]();
  }

  /** Ends the connection's writing once: `error` says why (null: a closing reply). */
  #end(error: unknown): void {
    this.#closing = true;
    if (this.#ended) return;
    this.#ended = true;
    this.#onError(error);
  }

  /** A failure outside a write: nothing more goes out. */
  #fail(error: unknown): void {
    this.#end(error);
    if (this.#writing) return;
    this.#drop();
  }

  /** Drops what is queued after the end, and wakes who waits for idle. */
  #drop(): void {
    this.#entries.length = 0;
    this.#unsent = 0;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** The write in progress made no progress in time: the peer is not reading. */
  #stalled(): void {
    this.#end(new WriteStalledError(this.#writeTimeoutMs));
    try {
      this.#conn.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  }

  #startPump(): void {
    this.#pump().catch((error) => this.#fail(error));
  }

  /** Writes all of `bytes`, each write within the deadline. */
  async #writeAll(bytes: Uint8Array): Promise<void> {
    await writeAll({
      write: async (p) => {
        this.#stall.arm(this.#writeTimeoutMs);
        try {
          const n = await this.#conn.write(p);
          this.#unsent -= n;
          return n;
        } finally {
          this.#stall.disarm();
        }
      },
    }, bytes);
  }

  async #pump(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#entries[0]?.frames != null && !this.#closing) {
        const frames: Uint8Array[] = [];
        let size = 0;
        let close = false;
        while (!close) {
          const entry = this.#entries[0];
          if (entry?.frames == null) break;
          this.#entries.shift();
          for (const frame of entry.frames) {
            frames.push(frame);
            size += frame.length;
          }
          close = entry.close;
        }
        if (close) this.#closing = true;
        const bytes = new Uint8Array(size);
        let at = 0;
        for (const frame of frames) {
          bytes.set(frame, at);
          at += frame.length;
        }
        try {
          await this.#writeAll(bytes);
        } catch (error) {
          this.#end(error);
          break;
        }
        if (close) this.#end(null);
      }
    } finally {
      this.#writing = false;
    }
    if (this.#closing) this.#drop();
    else if (this.#entries.length === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    } else if (this.#entries[0]?.frames != null) this.#startPump();
  }
}

/** A write to the peer made no progress within the write deadline. */
export class WriteStalledError extends Error {
  /**
   * An error for a write stalled past `ms`.
   *
   * @param ms the deadline that passed
   */
  constructor(ms: number) {
    super(`Cannot write to peer: no progress for ${ms} ms (it is not reading)`);
    this.name = "WriteStalledError";
  }
}
