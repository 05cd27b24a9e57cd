/**
 * bets.csv read as runs of rows of one agency: what the per-stream digests
 * (a finish's check) and the start-up check of the committed rows hash.
 *
 * @module
 */
import { Buffer } from "node:buffer";

const LF = 0x0a;

/** A row whose first field is not an agency id: its run's agency. */
export const NO_AGENCY: number = -1;

/** Bytes of whole rows searched as one string: below V8's large objects. */
const TEXT_WINDOW = 64 * 1024;

/**
 * Calls `onRun(agency, start, end, rows)` for each run of `rows`
 * consecutive rows of one agency in `bytes[from, to)`, which holds whole
 * LF-terminated rows (the last may lack its LF). A long run may come in
 * consecutive pieces. A row that does not start with an agency id and a
 * comma is a run of its own, of agency {@linkcode NO_AGENCY}.
 */
export function agencyRuns(
  bytes: Uint8Array,
  from: number,
  to: number,
  onRun: (agency: number, start: number, end: number, rows: number) => void,
): void {
  // Searched as Latin-1 text (a character per byte, so offsets match):
  // a string's indexOf costs a fraction of a Uint8Array's per call, and
  // this runs once per row of every row stored (docs/performance.md).
  // 64 kB at a time: a larger string waits for a full GC.
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let start = from; start < to;) {
    let stop = to;
    if (to - start > TEXT_WINDOW) {
      const last = bytes.lastIndexOf(LF, start + TEXT_WINDOW - 1);
      const next = last >= start ? last : bytes.indexOf(LF, start);
      stop = next === -1 || next >= to ? to : next + 1;
    }
    textRuns(buffer.toString("latin1", start, stop), start, onRun);
    start = stop;
  }
}

function textRuns(
  text: string,
  base: number,
  onRun: (agency: number, start: number, end: number, rows: number) => void,
): void {
  const length = text.length;
  const lineEnd = (at: number) => {
    const lf = text.indexOf("\n", at);
    return lf === -1 ? length : lf + 1;
  };
  let at = 0;
  while (at < length) {
    let digits = at;
    let agency = 0;
    for (let c; (c = text.charCodeAt(digits)) >= 0x30 && c <= 0x39; digits++) {
      agency = agency * 10 + c - 0x30;
    }
    const valid = digits > at && digits - at <= 10 &&
      text.charCodeAt(digits) === 0x2c;
    let end = lineEnd(at);
    let rows = 1;
    if (valid) {
      const prefix = text.slice(at, digits + 1);
      for (; end < length && text.startsWith(prefix, end); rows++) {
        end = lineEnd(end);
      }
    }
    onRun(valid ? agency : NO_AGENCY, base + at, base + end, rows);
    at = end;
  }
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
