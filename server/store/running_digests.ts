/**
 * Each agency's stream hashed as this worker commits its rows, so that a
 * finish in the worker that committed the whole stream needs no re-read of
 * bets.csv (`stream_hashes.ts`, the fallback, reads it).
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";

/**
 * The running SHA-256 of each agency's rows this worker committed, in
 * commit order. It is kept only while this worker committed every stored
 * row of the agency: a commit that starts at a count it did not hash
 * (rows another worker committed, or a start after a restart) drops it.
 */
export class RunningDigests {
  readonly #streams = new Map<number, { hash: Hash; rows: number }>();

  /**
   * Records that `rows` rows of `agency`, `bytes`, were committed just after
   * its first `before` stored rows. Call once the commit is durable, in
   * commit order.
   */
  committed(
    agency: number,
    before: number,
    bytes: Uint8Array,
    rows: number,
  ): void {
    let stream = this.#streams.get(agency);
    if (stream === undefined && before === 0) {
      stream = { hash: createHash("sha256"), rows: 0 };
      this.#streams.set(agency, stream);
    }
    if (stream === undefined || stream.rows !== before) {
      this.#streams.delete(agency);
      return;
    }
    stream.hash.update(bytes);
    stream.rows += rows;
  }

  /**
   * The SHA-256 of the agency's `stored` rows (the ledger's count) if this
   * worker hashed exactly that many, so all of them; otherwise `null`: hash
   * them from bets.csv.
   */
  digest(agency: number, stored: number): Uint8Array | null {
    const stream = this.#streams.get(agency);
    if ((stream?.rows ?? 0) !== stored) return null;
    const digest = (stream?.hash.copy() ?? createHash("sha256")).digest();
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.length);
  }
}
