/**
 * The one write path of a connection: its replies, in request order.
 *
 * @module
 */
import { writeAll } from "../../lib/net.ts";
import { encodeMessage } from "../../protocol/messages.ts";
import type { Reply } from "./handlers.ts";

interface Entry {
  /** The reply's bytes, once it is ready. */
  frames: Uint8Array[] | null;
  /** Nothing is written after it. */
  close: boolean;
}

/**
 * The replies of one connection, written in the order the requests came
 * although they finish out of order: a session reads a batch, queues its
 * reply-to-be and reads on, so batches of one agency overlap their group
 * commits. Replies that are ready together go out in one write. After a
 * reply that closes the connection, nothing more is written. Everything a
 * session sends goes through here: replies, its last error reply, and the
 * answer to an echo line.
 */
export class ReplyQueue {
  readonly #conn: Deno.Conn;
  readonly #onError: (error: unknown) => void;
  readonly #entries: Entry[] = [];
  #writing = false;
  #closing = false;
  #idle: (() => void)[] = [];

  /**
   * @param conn where replies are written
   * @param onError called once a write fails or a reply closes the
   *   connection (with `null`); the session then stops reading
   */
  constructor(conn: Deno.Conn, onError: (error: unknown) => void) {
    this.#conn = conn;
    this.#onError = onError;
  }

  /** Replies queued and not yet written. */
  get size(): number {
    return this.#entries.length;
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
      entry.frames = reply.messages.map(encodeMessage);
      entry.close = reply.close;
      void this.#pump();
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
    void this.#pump();
  }

  /** Settles when every queued reply has been written (or dropped after a close). */
  idle(): Promise<void> {
    if (this.#entries.length === 0 && !this.#writing) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #pump(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#entries[0]?.frames != null && !this.#closing) {
        const frames: Uint8Array[] = [];
        let size = 0;
        while (!this.#closing) {
          const entry = this.#entries[0];
          if (entry?.frames == null) break;
          this.#entries.shift();
          for (const frame of entry.frames) {
            frames.push(frame);
            size += frame.length;
          }
          if (entry.close) this.#closing = true;
        }
        const bytes = new Uint8Array(size);
        let at = 0;
        for (const frame of frames) {
          bytes.set(frame, at);
          at += frame.length;
        }
        try {
          await writeAll(this.#conn, bytes);
        } catch (error) {
          this.#closing = true;
          this.#onError(error);
          break;
        }
        if (this.#closing) this.#onError(null);
      }
      if (this.#closing) this.#entries.length = 0;
    } finally {
      this.#writing = false;
    }
    if (this.#entries.length === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    } else if (this.#entries[0]?.frames != null && !this.#closing) {
      void this.#pump();
    }
  }
}
