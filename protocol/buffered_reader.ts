import type { ExactReader } from "./frame.ts";
import { MAX_FRAME_SIZE } from "./frame.ts";
import { ProtocolError, ProtocolErrorReason } from "./protocol_error.ts";

/** Anything with `Deno.Conn`'s `read`: fills `p`, returns bytes read or `null` at end. */
export interface ByteSource {
  /** Reads into `p`; `null` means end of stream. */
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * Turns a `read()` source into {@linkcode ExactReader} with one reused
 * buffer: no short reads reach the caller, and at most `capacity` bytes are
 * ever held. Returned views are valid until the next call.
 */
export class BufferedReader implements ExactReader {
  readonly #source: ByteSource;
  readonly #buffer: Uint8Array;
  #start = 0;
  #end = 0;
  #eof = false;

  /**
   * @param source where bytes come from (a socket, in practice)
   * @param capacity the largest `readExact` or line this reader serves
   */
  constructor(source: ByteSource, capacity: number = 2 * MAX_FRAME_SIZE) {
    this.#source = source;
    this.#buffer = new Uint8Array(capacity);
  }

  /** Bytes received but not yet consumed. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /**
   * Reads exactly `n` bytes. Returns `null` if the stream ends before the
   * first one; throws {@linkcode ProtocolError} (`truncated`) if it ends
   * after some of them; throws `RangeError` if `n` exceeds the capacity.
   */
  async readExact(n: number): Promise<Uint8Array | null> {
    if (n > this.#buffer.length) {
      throw new RangeError(
        `Cannot read ${n} bytes: reader capacity is ${this.#buffer.length}`,
      );
    }
    while (this.buffered < n) {
      if (!await this.#fill()) {
        if (this.buffered === 0) return null;
        throw new ProtocolError(
          ProtocolErrorReason.truncated,
          `Cannot read ${n} bytes: stream ended after ${this.buffered}`,
        );
      }
    }
    const view = this.#buffer.subarray(this.#start, this.#start + n);
    this.#start += n;
    return view;
  }

  /** The next byte without consuming it, or `null` at a clean end of stream. */
  async peekByte(): Promise<number | null> {
    while (this.buffered === 0) {
      if (!await this.#fill()) return null;
    }
    return this.#buffer[this.#start]!;
  }

  /**
   * Reads through the next LF (included) or to the end of the stream,
   * whichever comes first. Returns `null` at a clean end with nothing
   * buffered, and throws `RangeError` if `maxLength` bytes arrive with no LF.
   */
  async readLine(maxLength: number): Promise<Uint8Array | null> {
    const limit = Math.min(maxLength, this.#buffer.length);
    let scanned = 0;
    for (;;) {
      const window = this.#buffer.subarray(this.#start, this.#end);
      const lf = window.indexOf(10, scanned);
      if (lf >= 0) return this.#consume(lf + 1);
      scanned = window.length;
      if (scanned >= limit) {
        throw new RangeError(
          `Cannot read line: no line feed in ${limit} bytes`,
        );
      }
      if (!await this.#fill()) {
        return this.buffered === 0 ? null : this.#consume(this.buffered);
      }
    }
  }

  #consume(n: number): Uint8Array {
    const view = this.#buffer.subarray(this.#start, this.#start + n);
    this.#start += n;
    return view;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    if (
      this.#start > 0 &&
      (this.#end === this.#buffer.length ||
        this.#start > this.#buffer.length / 2)
    ) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    } else if (this.#start === this.#end) {
      this.#start = this.#end = 0;
    }
    const read = await this.#source.read(this.#buffer.subarray(this.#end));
    if (read === null) {
      this.#eof = true;
      return false;
    }
    this.#end += read;
    return true;
  }
}
