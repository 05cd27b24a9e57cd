/**
 * A peer on a plain TCP socket for the system tests: it sends whatever
 * bytes a test gives it and reads the central's frames one at a time, and
 * can open its connection with the handshake (the agency's own code) when
 * a test needs a proven connection to go on from.
 */
import { createHash } from "node:crypto";
import { openConnection } from "../agency/handshake.ts";
import type { ProvenHello } from "../lib/agency_auth.ts";
import { BufferedReader } from "../protocol/buffered_reader.ts";
import { HEADER_SIZE, readFrame } from "../protocol/frame.ts";
import {
  decodeMessage,
  DIGEST_SIZE,
  isKnownMessageType,
  type Response,
} from "../protocol/messages.ts";

/** A frame header: `type`, and a payload length that may be a lie. */
export function frameHeader(type: number, length: number): Uint8Array {
  const bytes = new Uint8Array(HEADER_SIZE);
  bytes[0] = type;
  new DataView(bytes.buffer).setUint32(1, length);
  return bytes;
}

/** A hello for a stream of `total` bets whose digest is all `fill`. */
export function helloOf(agency: number, total = 0, fill = 0): ProvenHello {
  return { agency, total, digest: new Uint8Array(DIGEST_SIZE).fill(fill) };
}

/**
 * A hello for the stream of `rows` (bets.csv's form, each ending in LF)
 * with its real digest: the one a finish is checked against.
 */
export function helloFor(agency: number, rows: string): ProvenHello {
  return {
    agency,
    total: rows.split("\n").length - 1,
    digest: new Uint8Array(createHash("sha256").update(rows).digest()),
  };
}

/** One connection to a central on 127.0.0.1, spoken to byte by byte. */
export class RawPeer implements Disposable {
  readonly #conn: Deno.Conn;
  readonly #reader: BufferedReader;
  #closed = false;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.#reader = new BufferedReader(conn);
  }

  /** Connects to 127.0.0.1:`port`. */
  static async connect(port: number): Promise<RawPeer> {
    return new RawPeer(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Writes all of `bytes`; false if the central had closed the connection. */
  async send(bytes: Uint8Array): Promise<boolean> {
    try {
      for (let at = 0; at < bytes.length;) {
        at += await this.#conn.write(bytes.subarray(at));
      }
      return true;
    } catch (error) {
      if (isClosed(error)) return false;
      throw error;
    }
  }

  /**
   * The central's next message, or `null` once it has closed the
   * connection (or `ms` passed without a whole frame).
   */
  async next(ms = 10_000): Promise<Response | null> {
    if (this.#closed) return null;
    const timer = setTimeout(() => this.close(), ms);
    try {
      const frame = await readFrame(this.#reader, {
        isKnownType: isKnownMessageType,
      });
      if (frame === null) return null;
      return decodeMessage(frame) as Response;
    } catch (error) {
      if (isClosed(error)) return null;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Every message up to the central's close. */
  async rest(ms = 10_000): Promise<Response[]> {
    const all: Response[] = [];
    for (let m; (m = await this.next(ms)) !== null;) all.push(m);
    return all;
  }

  /**
   * Opens the connection with the agency's handshake for `hello` and
   * `key`; returns the welcome's count, or throws the refusal.
   */
  async open(hello: ProvenHello, key: string): Promise<number> {
    return await openConnection(
      {
        send: async (bytes) => {
          if (!await this.send(bytes)) {
            throw new Deno.errors.ConnectionReset("Cannot send: closed");
          }
        },
        receive: async () => {
          const message = await this.next();
          if (message === null) {
            throw new Deno.errors.ConnectionReset("Cannot read: closed");
          }
          return message;
        },
      },
      hello,
      key,
    );
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
  }

  /** Closes the connection, like {@linkcode RawPeer.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function isClosed(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.Interrupted;
}
