/**
 * A buffered reader over a byte source: exact reads, lines, peeking.
 *
 * @module
 */
import type { ExactReader } from "./frame.ts";
import { MAX_FRAME_SIZE } from "./frame.ts";
import { ProtocolError, ProtocolErrorReason } from "./protocol_error.ts";

/** Anything with `Deno.Conn`'s `read`: fills `p`, returns bytes read or `null` at end. */
export interface ByteSource {
  /** Reads into `p`; `null` means end of stream. */
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * When a reader may trade memory for fewer reads: once `after` bytes have
 * come through it, its buffer grows to `to` bytes (once). A peer that sends
 * a lot gets the larger buffer; the many that send little never do.
 */
export interface ReaderGrowth {
  /** Bytes read before the buffer grows. */
  readonly after: number;
  /** The buffer's size after it grows. */
  readonly to: number;
}

/**
 * Turns a `read()` source into {@linkcode ExactReader} with one reused
 * buffer: no short reads reach the caller, and at most `capacity` bytes are
 * ever held (`growth.to` once it has grown). Returned views are valid until
 * the next call.
 */
export class BufferedReader implements ExactReader {
  readonly #source: ByteSource;
  readonly #capacity: number;
  #buffer: Uint8Array;
  #growth: ReaderGrowth | null;
  #received = 0;
  #start = 0;
  #end = 0;
  #eof = false;

  /**
   * Reads from `source` through a buffer of `capacity` bytes.
   *
   * @param source where bytes come from (a socket, in practice)
   * @param capacity the largest `readExact` or line this reader serves, and
   *   its buffer's size
   * @param growth when the buffer grows (never, by default); growing does
   *   not change what the reader serves, only how much one read may take
   */
  constructor(
    source: ByteSource,
    capacity: number = 2 * MAX_FRAME_SIZE,
    growth: ReaderGrowth | null = null,
  ) {
    this.#source = source;
    this.#capacity = capacity;
    this.#buffer = new Uint8Array(capacity);
    this.#growth = growth !== null && growth.to > capacity ? growth : null;
  }

  /** The buffer's size: `capacity`, or `growth.to` once it has grown. */
  get bufferSize(): number {
    return this.#buffer.length;
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
    if (n > this.#capacity) {
      throw new RangeError(
        `Cannot read ${n} bytes: reader capacity is ${this.#capacity}`,
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
    const limit = Math.min(maxLength, this.#capacity);
    let scanned = 0;
    for (;;) {
      const window = this.#buffer.subarray(
        this.#start,
        Math.min(this.#end, this.#start + limit),
      );
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
    if (this.#growth !== null && this.#received >= this.#growth.after) {
      const grown = new Uint8Array(this.#growth.to);
      grown.set(this.#buffer.subarray(this.#start, this.#end));
      this.#end -= this.#start;
      this.#start = 0;
      this.#buffer = grown;
      this.#growth = null;
    }
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
    this.#received += read;
    return true;
  }
}
