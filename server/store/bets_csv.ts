/**
 * bets.csv and the course's storage functions, re-created once: the central
 * writes the file only through {@linkcode storeBets} (the batch writer, for
 * every batch and single bet) and reads it only through
 * {@linkcode scanWinners} (the draw: `load_bets` followed by `has_won`, in
 * one pass). {@linkcode loadBets} is the skeleton's reading as the course
 * defines it, which that scan is held to by the tests. Like the originals
 * they are not safe for concurrent use: callers hold the storage lock (see
 * `storage_lock.ts`). The rule for bytes past the committed size is
 * {@linkcode cutToCommitted}.
 *
 * Rows are `agency,first_name,last_name,document,birthdate,number`, minimal
 * quoting, one LF-terminated line per bet.
 *
 * @module
 */
import { Bet, hasWon, LOTTERY_WINNER_NUMBER } from "../../lib/bet.ts";
import { Buffer } from "node:buffer";
import type { StorageRows } from "../../lib/bet_row.ts";
import { formatCsvRow, parseCsvLine, readCsvRecords } from "../../lib/csv.ts";
import { readLineChunks } from "../../lib/line_chunks.ts";

export { Bet, hasWon, LOTTERY_WINNER_NUMBER, type StorageRows };

/** The file the bets are stored in, inside the storage directory. */
export const BETS_FILE = "bets.csv";

const encoder = new TextEncoder();

/**
 * `store_bets`: appends one row per bet to the bets file open in `file`
 * (opened for appending) with a single write, and returns the number of
 * bytes written. `bets` may be bets, or rows already in `store_bets`'s form
 * (from {@linkcode betRows}, or validated batches from `toStorageRows`,
 * whose rows are the same bytes). It does not flush; the caller decides
 * when to `syncData`.
 */
export function storeBets(
  file: Deno.FsFile,
  bets: readonly Bet[] | StorageRows,
): number {
  const rows = isRows(bets) ? bets.bytes : betRows(bets).bytes;
  let bytes = rows;
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
  return rows.length;
}

function isRows(bets: readonly Bet[] | StorageRows): bets is StorageRows {
  return !Array.isArray(bets);
}

/** The rows `store_bets` writes for `bets`. */
export function betRows(bets: readonly Bet[]): StorageRows {
  let text = "";
  for (const bet of bets) {
    text += formatCsvRow([
      bet.agency,
      bet.firstName,
      bet.lastName,
      bet.document,
      bet.birthdate,
      bet.number,
    ]) + "\n";
  }
  return { bytes: encoder.encode(text), count: bets.length };
}

/** What {@linkcode cutToCommitted} found. */
export type CutResult =
  | { readonly ok: true; readonly cutBytes: number }
  | { readonly ok: false; readonly problem: string };

/**
 * The rule for bytes of bets.csv past the committed size (`committed`, from
 * the ledger): they belong to a batch whose writer died before committing,
 * which was never acknowledged and which its agency sends again, so they
 * are cut off. A file shorter than what is committed was damaged or
 * replaced: nothing is cut, and `problem` says so. Hold the storage lock.
 */
export function cutToCommitted(
  file: Deno.FsFile,
  committed: number,
): CutResult {
  const size = file.statSync().size;
  if (size < committed) {
    return {
      ok: false,
      problem: `bets.csv holds ${size} bytes but ${committed} are committed`,
    };
  }
  if (size > committed) file.truncateSync(committed);
  return { ok: true, cutBytes: size - committed };
}

/**
 * `load_bets`: yields the stored bets back in file order, streaming the file
 * (never all of it in memory). A missing file holds no bets. Throws
 * `SyntaxError` naming the line if a row is not a valid bet.
 */
export async function* loadBets(path: string): AsyncGenerator<Bet> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  using _file = file;
  for await (const { fields, line } of readCsvRecords(file.readable)) {
    if (fields.length !== 6) {
      throw new SyntaxError(
        `Cannot load bets: ${path} line ${line} has ${fields.length} fields, not 6`,
      );
    }
    const [agency, first, last, document, birthdate, number] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    try {
      yield new Bet(agency, first, last, document, birthdate, number);
    } catch (error) {
      throw new SyntaxError(
        `Cannot load bets: ${path} line ${line}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

const WINNING_TAIL = `${LOTTERY_WINNER_NUMBER}\n`;
const SCAN_CHUNK = 1 << 20;
/** Searched at a time: its text stays under V8's 128 kB limit for young objects. */
const SCAN_SLICE = 64 << 10;

/**
 * The draw's reading of bets.csv: the agency and document of every stored
 * bet for which `has_won` holds, as `load_bets` followed by `has_won` would
 * give them, per agency in file order. Instead of building a bet per row it
 * reads 1 MB of whole lines at a time (the best of the sizes measured, see
 * docs/performance.md), searches the text of 64 kB of whole lines at a time
 * (short-lived strings) for rows ending in the winning number (leading zeros allowed, as
 * `load_bets` reads the number as an integer), and splits only those rows.
 * Unlike `load_bets` it does not validate the rows that did not win. Throws
 * `SyntaxError` naming the row for a winning row that is not a bet row.
 *
 * With `from` and `to`, only the rows that start at a byte offset in
 * `[from, to)` are read, so that ranges side by side cover every row once.
 */
export async function scanWinners(
  path: string,
  from = 0,
  to = Infinity,
): Promise<Map<number, string[]>> {
  const winners = new Map<number, string[]>();
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return winners;
    throw error;
  }
  using _file = file;
  // From the byte before `from`: the row it ends (or is in) is not ours.
  let base = Math.max(0, from - 1);
  if (base > 0) await file.seek(base, Deno.SeekMode.Start);
  let skipFirst = from > 0;
  const decoder = new TextDecoder();
  for await (const { bytes: buffer, end } of readLineChunks(file, SCAN_CHUNK)) {
    let begin = 0;
    if (skipFirst) {
      skipFirst = false;
      const lf = buffer.indexOf(0x0a);
      begin = lf === -1 || lf >= end ? end : lf + 1;
    }
    // Rows that start before `to`: through the end of the one holding byte
    // `to - 1`.
    let stop = end;
    const last = base + end >= to;
    if (last) {
      if (base + begin >= to) break;
      const lf = buffer.indexOf(0x0a, to - 1 - base);
      stop = lf === -1 || lf >= end ? end : lf + 1;
    }
    const chunk = Buffer.from(buffer.buffer, buffer.byteOffset, stop);
    // Searched a slice of whole lines at a time: its text is a small string
    // that dies young, where a 1 MB one would wait for a full GC.
    for (let at = begin; at < stop;) {
      let next = Math.min(at + SCAN_SLICE, stop);
      if (next < stop) {
        const lf = buffer.lastIndexOf(0x0a, next - 1);
        next = lf >= at ? lf + 1 : stop;
      }
      // One byte, one character: Latin-1 text (made natively) has the
      // bytes' offsets, and V8's string search is fast.
      const text = chunk.toString("latin1", at, next);
      scanSlice(text, buffer, at, decoder, path, winners);
      at = next;
    }
    if (last) break;
    base += end;
  }
  return winners;
}

/**
 * Finds the winning rows in `text`, the Latin-1 text of the whole lines of
 * `buffer` from `from` on, and adds their agencies and documents to
 * `winners`. Only winning rows are decoded as UTF-8 and split.
 */
function scanSlice(
  text: string,
  buffer: Uint8Array,
  from: number,
  decoder: TextDecoder,
  path: string,
  winners: Map<number, string[]>,
): void {
  if (!text.endsWith("\n")) text += "\n";
  for (
    let at = text.indexOf(WINNING_TAIL);
    at !== -1;
    at = text.indexOf(WINNING_TAIL, at + 1)
  ) {
    let start = from + at;
    while (start > from && buffer[start - 1] === 0x30) start--;
    if (start === from || buffer[start - 1] !== 0x2c) continue;
    const lineStart = from + text.lastIndexOf("\n", at) + 1;
    const line = decoder.decode(
      buffer.subarray(lineStart, from + at + WINNING_TAIL.length - 1),
    );
    const fields = parseCsvLine(line);
    const agency = Number(fields[0]);
    const document = fields[3];
    if (
      fields.length !== 6 || !Number.isSafeInteger(agency) ||
      document === undefined || !/^\d+$/.test(document)
    ) {
      throw new SyntaxError(
        `Cannot load bets: ${path} has a winning row that is not a bet: ${line}`,
      );
    }
    const list = winners.get(agency);
    if (list === undefined) winners.set(agency, [document]);
    else list.push(document);
  }
}
