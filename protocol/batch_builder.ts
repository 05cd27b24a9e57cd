/**
 * Packing bet lines into `batch` frames.
 *
 * @module
 */
import { HEADER_SIZE, MAX_FRAME_SIZE } from "./frame.ts";
import { MessageType } from "./messages.ts";

/** Where a `batch` frame's rows start: after the header, agency, first and count. */
export const BATCH_ROWS_OFFSET: number = HEADER_SIZE + 4 + 4 + 2;
const LF = 0x0a;

/**
 * Writes the stored row `prefix` + `bytes[start, end)` + LF into `target` at
 * `at` (the caller made room) and returns where it ends.
 */
export function writeStoredRow(
  target: Uint8Array,
  at: number,
  prefix: Uint8Array,
  bytes: Uint8Array,
  start: number,
  end: number,
): number {
  // Byte loops: a line is short, and a subarray per line costs more.
  for (let k = 0; k < prefix.length; k++) target[at++] = prefix[k]!;
  for (let k = start; k < end; k++) target[at++] = bytes[k]!;
  target[at++] = LF;
  return at;
}

/**
 * Packs bet lines into one `batch` frame as they come, copying each once
 * behind the agency's id (`agency,` + line + LF: the row as the central
 * stores it), and says when the next line would not fit: either
 * `maxAmount` bets are in, or the frame would pass
 * {@linkcode MAX_FRAME_SIZE} bytes (long names cut a batch early). The frame it returns is byte-identical to
 * `encodeMessage({ kind: "batch", ... })`.
 */
export class BatchBuilder {
  readonly #agency: number;
  readonly #prefix: Uint8Array;
  readonly #maxAmount: number;
  readonly #frame = new Uint8Array(MAX_FRAME_SIZE);
  readonly #view = new DataView(this.#frame.buffer);
  #offset = BATCH_ROWS_OFFSET;
  #count = 0;

  /**
   * Starts an empty batch of agency `agency`.
   *
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
    this.#prefix = new TextEncoder().encode(`${agency},`);
    this.#maxAmount = maxAmount;
  }

  /** Bets in the batch being built. */
  get count(): number {
    return this.#count;
  }

  /**
   * Appends the bet line `bytes[start, end)` (without the agency and the
   * line end; both are added) if it fits and returns `true`; returns
   * `false`, leaving the batch as it was, if it does not. Throws `RangeError` for a line that could
   * not fit even in an empty batch.
   */
  tryAdd(bytes: Uint8Array, start: number, end: number): boolean {
    if (this.#count >= this.#maxAmount) return false;
    const prefix = this.#prefix;
    const length = prefix.length + end - start;
    if (this.#offset + length + 1 > MAX_FRAME_SIZE) {
      if (this.#count === 0) {
        throw new RangeError(
          `Cannot batch a bet line of ${
            end - start
          } bytes: it does not fit in a ${MAX_FRAME_SIZE}-byte frame`,
        );
      }
      return false;
    }
    this.#offset = writeStoredRow(
      this.#frame,
      this.#offset,
      prefix,
      bytes,
      start,
      end,
    );
    this.#count++;
    return true;
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
    this.#offset = BATCH_ROWS_OFFSET;
    this.#count = 0;
    return frame;
  }
}
