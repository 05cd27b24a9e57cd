/**
 * A worker's running SHA-256 of each agency's stored rows, for the finish
 * check: a finish is accepted only if the stream's stored rows hash to the
 * digest its hello announced.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { agencyRuns, NO_AGENCY, readRows } from "./row_runs.ts";

/** What a stream's stored rows are: how many, and their SHA-256. */
export interface StoredStream {
  /** Rows of the agency in bets.csv. */
  readonly rows: number;
  /** Their SHA-256, in file order. */
  readonly digest: Uint8Array;
}

/**
 * The digest of every agency's rows in bets.csv up to a committed size,
 * kept up to date by reading only what was committed since the last call
 * (by any worker: rows of agencies are interleaved in the file). A worker
 * reads the file once over its life, in steps; the hash states live in
 * its memory (a restarted worker starts again from byte 0). Hold the
 * storage lock while using it: the bytes it reads are committed ones.
 */
export class StreamHashes {
  readonly #path: string;
  #offset = 0;
  readonly #streams = new Map<number, { hash: Hash; rows: number }>();

  /**
   * Digests of `path`, none read yet.
   *
   * @param path bets.csv
   */
  constructor(path: string) {
    this.#path = path;
  }

  /** Reads bets.csv from where it stopped up to `committed`. */
  async advance(committed: number): Promise<void> {
    if (committed < this.#offset) {
      throw new Error(
        `Cannot hash the stored streams: ${committed} bytes are committed, ${this.#offset} were read before`,
      );
    }
    try {
      for await (
        const { bytes, end } of readRows(this.#path, this.#offset, committed)
      ) {
        agencyRuns(bytes, 0, end, (agency, start, stop, rows) => {
          if (agency === NO_AGENCY) return;
          let stream = this.#streams.get(agency);
          if (stream === undefined) {
            stream = { hash: createHash("sha256"), rows: 0 };
            this.#streams.set(agency, stream);
          }
          stream.hash.update(bytes.subarray(start, stop));
          stream.rows += rows;
        });
      }
    } catch (error) {
      // Half-read: start again from the beginning next time.
      this.#streams.clear();
      this.#offset = 0;
      throw error;
    }
    this.#offset = committed;
  }

  /** The agency's stored rows as of the last {@linkcode advance}. */
  stored(agency: number): StoredStream {
    const stream = this.#streams.get(agency);
    const hash = stream?.hash.copy() ?? createHash("sha256");
    const digest = hash.digest();
    return {
      rows: stream?.rows ?? 0,
      digest: new Uint8Array(digest.buffer, digest.byteOffset, digest.length),
    };
  }
}
