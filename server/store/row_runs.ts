/**
 * bets.csv read as runs of rows of one agency: what the per-stream digests
 * (a finish's check) and the start-up check of the committed rows hash.
 *
 * @module
 */

const LF = 0x0a;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

/** A row whose first field is not an agency id: its run's agency. */
export const NO_AGENCY: number = -1;

/**
 * Calls `onRun(agency, start, end, rows)` for each run of `rows`
 * consecutive rows of one agency in `bytes[from, to)`, which holds whole
 * LF-terminated rows (the last may lack its LF). A row that does not start
 * with an agency id and a comma is a run of its own, of agency
 * {@linkcode NO_AGENCY}.
 */
export function agencyRuns(
  bytes: Uint8Array,
  from: number,
  to: number,
  onRun: (agency: number, start: number, end: number, rows: number) => void,
): void {
  let at = from;
  while (at < to) {
    let digits = at;
    let agency = 0;
    for (; digits < to && bytes[digits]! >= ZERO && bytes[digits]! <= NINE;) {
      agency = agency * 10 + bytes[digits++]! - ZERO;
    }
    const valid = digits > at && digits - at <= 10 && bytes[digits] === COMMA;
    let end = lineEnd(bytes, at, to);
    let rows = 1;
    if (valid) {
      // The prefix `agency,` is compared byte by byte with the next rows'.
      const prefix = digits + 1 - at;
      for (; end < to && samePrefix(bytes, at, end, prefix); rows++) {
        end = lineEnd(bytes, end, to);
      }
    }
    onRun(valid ? agency : NO_AGENCY, at, end, rows);
    at = end;
  }
}

function lineEnd(bytes: Uint8Array, at: number, to: number): number {
  const lf = bytes.indexOf(LF, at);
  return lf === -1 || lf >= to ? to : lf + 1;
}

function samePrefix(
  bytes: Uint8Array,
  a: number,
  b: number,
  length: number,
): boolean {
  for (let i = 0; i < length; i++) {
    if (bytes[a + i] !== bytes[b + i]) return false;
  }
  return true;
}

/** A chunk of whole rows read from bets.csv: `bytes[0, end)`, at file offset `offset`. */
export interface RowChunk {
  /** The read buffer, reused: valid until the next chunk is asked for. */
  readonly bytes: Uint8Array;
  /** Where the chunk's rows end in `bytes`. */
  readonly end: number;
  /** The file offset of `bytes[0]`. */
  readonly offset: number;
}

/**
 * Reads the file at `path` from byte `from` to byte `to` (a row boundary,
 * such as the committed size) about `size` bytes at a time, each chunk
 * ending after an LF (or at `to`). Throws if the file ends before `to`.
 */
export async function* readRows(
  path: string,
  from: number,
  to: number,
  size = 1 << 20,
): AsyncGenerator<RowChunk> {
  if (from >= to) return;
  using file = await Deno.open(path, { read: true });
  await file.seek(from, Deno.SeekMode.Start);
  let buffer = new Uint8Array(size);
  let filled = 0;
  let offset = from;
  while (offset + filled < to) {
    if (filled === buffer.length) {
      const grown = new Uint8Array(buffer.length * 2);
      grown.set(buffer);
      buffer = grown;
    }
    const want = Math.min(buffer.length, to - offset);
    const read = await file.read(buffer.subarray(filled, want));
    if (read === null) {
      throw new Error(
        `Cannot read ${path}: it ends at byte ${
          offset + filled
        }, before byte ${to}`,
      );
    }
    filled += read;
    const end = offset + filled === to
      ? filled
      : buffer.lastIndexOf(LF, filled - 1) + 1;
    if (end === 0) continue;
    yield { bytes: buffer, end, offset };
    buffer.copyWithin(0, end, filled);
    filled -= end;
    offset += end;
  }
}
