/**
 * The digest an agency announces in its hello: SHA-256 over its whole
 * stream exactly as the central stores it, one
 * `agency,first_name,last_name,document,birthdate,number\n` row per bet, in
 * order. Rows already in memory (a file read once, the single bet) go to
 * WebCrypto in one piece; a file too large to hold is hashed as it is
 * checked, with `node:crypto`'s streaming hash, imported only then
 * (importing a `node:` module slows every agency's start; see
 * docs/performance.md).
 */
import { concatBytes } from "../lib/concat_bytes.ts";
import { writeStoredRow } from "../protocol/batch_builder.ts";
import { DIGEST_SIZE } from "../protocol/messages.ts";

const LF = 0x0a;
/** Rows are gathered into this many bytes per hash update: one call per row would cost more than the check. */
const STAGING = 64 * 1024;

/** SHA-256 of `parts` back to back (WebCrypto takes one buffer). */
export async function sha256(
  parts: readonly Uint8Array[],
): Promise<Uint8Array> {
  // The rows are never in shared memory.
  const bytes = concatBytes(parts) as Uint8Array<ArrayBuffer>;
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** The part of `node:crypto`'s `Hash` this module uses. */
interface Hash {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}

/** A streaming SHA-256 of an agency's stored rows, fed one bet line at a time. */
export class StreamDigest {
  readonly #hash: Hash;
  readonly #prefix: Uint8Array;
  readonly #staging = new Uint8Array(STAGING);
  #offset = 0;

  private constructor(agency: number, hash: Hash) {
    this.#hash = hash;
    this.#prefix = new TextEncoder().encode(`${agency},`);
  }

  /** A digest of the rows of `agency` (each row starts with it). */
  static async create(agency: number): Promise<StreamDigest> {
    const { createHash } = await import("node:crypto");
    return new StreamDigest(agency, createHash("sha256"));
  }

  /**
   * Adds the bet line `bytes[start, end)` (stored form, without the agency
   * and the line end; both are added). A `BetLineSink` of `bet_file.ts`.
   */
  readonly add = (bytes: Uint8Array, start: number, end: number): void => {
    const prefix = this.#prefix;
    const length = prefix.length + end - start + 1;
    if (this.#offset + length > STAGING) {
      this.#flush();
      if (length > STAGING) {
        this.#hash.update(prefix);
        this.#hash.update(bytes.subarray(start, end));
        this.#hash.update(new Uint8Array([LF]));
        return;
      }
    }
    this.#offset = writeStoredRow(
      this.#staging,
      this.#offset,
      prefix,
      bytes,
      start,
      end,
    );
  };

  /**
   * The digest of every row added, {@linkcode DIGEST_SIZE} bytes. Call it
   * once, after the last row: the hash is finished then.
   */
  digest(): Uint8Array {
    this.#flush();
    const bytes = this.#hash.digest();
    return new Uint8Array(bytes.buffer, bytes.byteOffset, DIGEST_SIZE);
  }

  #flush(): void {
    if (this.#offset === 0) return;
    this.#hash.update(this.#staging.subarray(0, this.#offset));
    this.#offset = 0;
  }
}
