/**
 * A reusable buffer that the batch writer copies batches' rows into.
 *
 * @module
 */
/**
 * Bytes appended back to back into one buffer that grows as needed and is
 * reused after {@linkcode Spool.clear}: the batch writer copies each batch's
 * rows in as it arrives and writes a whole group from it at once, so a
 * batch costs one copy and no allocation of its own.
 */
export class Spool {
  #bytes: Uint8Array;
  readonly #step: number;
  #used = 0;

  /**
   * An empty spool of `capacity` bytes.
   *
   * @param capacity the starting size in bytes, and the step it grows by
   */
  constructor(capacity = 1 << 20) {
    this.#bytes = new Uint8Array(capacity);
    this.#step = capacity;
  }

  /** Bytes appended since the last clear. */
  get used(): number {
    return this.#used;
  }

  /** Copies `bytes` in after what is there; returns where they start. */
  append(bytes: Uint8Array): number {
    const at = this.#used;
    if (at + bytes.length > this.#bytes.length) {
      // Grow in steps of the first size, not by doubling: the writer's
      // backlog bound keeps a spool near it, and a doubled buffer would
      // stay twice that size for the rest of the run.
      const step = this.#step;
      const grown = new Uint8Array(
        Math.ceil((at + bytes.length) / step) * step,
      );
      grown.set(this.#bytes.subarray(0, at));
      this.#bytes = grown;
    }
    this.#bytes.set(bytes, at);
    this.#used = at + bytes.length;
    return at;
  }

  /** The bytes `[start, end)`: a view, valid until the next append or clear. */
  view(start: number, end: number): Uint8Array {
    if (start < 0 || end > this.#used || start > end) {
      throw new RangeError(
        `Cannot view bytes ${start}…${end}: the spool holds ${this.#used}`,
      );
    }
    return this.#bytes.subarray(start, end);
  }

  /** Forgets the contents; the buffer is kept for reuse. */
  clear(): void {
    this.#used = 0;
  }
}
