import { HEADER_SIZE, MAX_FRAME_SIZE } from "./frame.ts";
import { MessageType, type WireBet } from "./messages.ts";

const BATCH_PREFIX = HEADER_SIZE + 4 + 4 + 2;
const encoder = new TextEncoder();

/**
 * Packs bets into one `batch` frame as they come, encoding each once, and
 * says when the next bet would not fit: either `maxAmount` bets are in, or
 * the frame would pass {@linkcode MAX_FRAME_SIZE} bytes (long names cut a
 * batch early). The frame it returns is byte-identical to
 * `encodeMessage({ kind: "batch", ... })`.
 */
export class BatchBuilder {
  readonly #agency: number;
  readonly #maxAmount: number;
  readonly #frame = new Uint8Array(MAX_FRAME_SIZE);
  readonly #view = new DataView(this.#frame.buffer);
  #offset = BATCH_PREFIX;
  #count = 0;

  /**
   * @param agency the sending agency's id
   * @param maxAmount most bets per batch (`batch.maxAmount`), 1…65535
   */
  constructor(agency: number, maxAmount: number) {
    if (!Number.isInteger(maxAmount) || maxAmount < 1 || maxAmount > 0xffff) {
      throw new RangeError(
        `Cannot build batches: maxAmount ${maxAmount} is not in 1…65535`,
      );
    }
    this.#agency = agency;
    this.#maxAmount = maxAmount;
  }

  /** Bets in the batch being built. */
  get count(): number {
    return this.#count;
  }

  /**
   * Appends a bet if it fits and returns `true`; returns `false`, leaving the
   * batch as it was, if it does not. Throws `RangeError` for a bet that
   * could not fit even in an empty batch.
   */
  tryAdd(bet: WireBet): boolean {
    if (this.#count >= this.#maxAmount) return false;
    const start = this.#offset;
    if (
      this.#put(bet.firstName) && this.#put(bet.lastName) &&
      this.#put(bet.document) && this.#put(bet.birthdate) &&
      this.#put(bet.number)
    ) {
      this.#count++;
      return true;
    }
    this.#offset = start;
    if (this.#count === 0) {
      throw new RangeError(
        `Cannot batch bet of document ${bet.document}: it does not fit in a ${MAX_FRAME_SIZE}-byte frame`,
      );
    }
    return false;
  }

  /**
   * Returns the finished frame (a copy), whose first bet is bet number
   * `first` (from 0) of the agency's stream, and starts a new, empty batch.
   */
  take(first: number): Uint8Array {
    this.#frame[0] = MessageType.batch;
    this.#view.setUint32(1, this.#offset - HEADER_SIZE);
    this.#view.setUint32(HEADER_SIZE, this.#agency);
    this.#view.setUint32(HEADER_SIZE + 4, first);
    this.#view.setUint16(HEADER_SIZE + 8, this.#count);
    const frame = this.#frame.slice(0, this.#offset);
    this.#offset = BATCH_PREFIX;
    this.#count = 0;
    return frame;
  }

  #put(value: string): boolean {
    const at = this.#offset;
    if (at + 2 > MAX_FRAME_SIZE) return false;
    const { read, written } = encoder.encodeInto(
      value,
      this.#frame.subarray(at + 2),
    );
    if (read !== value.length || written > 0xffff) return false;
    this.#view.setUint16(at, written);
    this.#offset = at + 2 + written;
    return true;
  }
}
