import { Bet } from "./bet.ts";
import { formatCsvRow, parseCsvLine } from "./csv.ts";

const COMMA = 0x2c;
const QUOTE = 0x22;
const ZERO = 0x30;
const NINE = 0x39;
const DASH = 0x2d;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/**
 * The fast check of one bet line, `first_name,last_name,document,birthdate,
 * number` (bytes `start` to `end` of `bytes`, no line end), made byte by byte
 * with no allocation. `true` means the line is a valid bet exactly as
 * {@linkcode Bet} judges it *and* already in the form `store_bets` writes (no
 * quotes, the number without leading zeros), so it can be stored as it is.
 * `false` means "not sure": the caller takes the slow path,
 * {@linkcode canonicalBetLine}, which decides and explains.
 *
 * Names may hold any valid UTF-8; invalid UTF-8 is left to the slow path,
 * which refuses it.
 */
export function isCanonicalBetLine(
  bytes: Uint8Array,
  start: number,
  end: number,
): boolean {
  // Names: non-empty after trimming (an ASCII letter or sign guarantees it),
  // no control character, no comma or quote (those would need quoting).
  let i = start;
  for (let field = 0; field < 2; field++) {
    let visible = false;
    for (;; i++) {
      if (i >= end) return false;
      const c = bytes[i]!;
      if (c === COMMA) break;
      if (c < 0x20 || c === 0x7f || c === QUOTE) return false;
      if (c < 0x7f) visible ||= c > 0x20;
      else if ((i = utf8Sequence(bytes, i, end)) < 0) return false;
    }
    if (!visible) return false;
    i++;
  }
  // Document: 1 to 20 digits.
  const document = i;
  while (i < end && bytes[i]! >= ZERO && bytes[i]! <= NINE) i++;
  if (i === document || i - document > 20 || bytes[i] !== COMMA) return false;
  i++;
  // Birthdate: YYYY-MM-DD, a calendar date from year 1000 on.
  if (end - i < 11 || bytes[i + 4] !== DASH || bytes[i + 7] !== DASH) {
    return false;
  }
  const y = digits(bytes, i, 4);
  const m = digits(bytes, i + 5, 2);
  const d = digits(bytes, i + 8, 2);
  if (y < 1000 || m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > DAYS[m - 1]! + (m === 2 && leap ? 1 : 0)) return false;
  i += 10;
  if (bytes[i] !== COMMA) return false;
  i++;
  // Number: digits with no leading zero (or just "0"), safely an integer.
  const number = end - i;
  if (number < 1 || number > 15 || (number > 1 && bytes[i] === ZERO)) {
    return false;
  }
  for (; i < end; i++) {
    const c = bytes[i]!;
    if (c < ZERO || c > NINE) return false;
  }
  return true;
}

/**
 * Checks the UTF-8 sequence whose lead byte is at `at` and returns the index
 * of its last byte, or -1 if it is not valid UTF-8 (a stray continuation,
 * an overlong form, a surrogate, past U+10FFFF, or cut by `end`).
 */
function utf8Sequence(bytes: Uint8Array, at: number, end: number): number {
  const c = bytes[at]!;
  let n: number;
  let low = 0x80;
  let high = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 1;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 2;
    if (c === 0xe0) low = 0xa0;
    else if (c === 0xed) high = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 3;
    if (c === 0xf0) low = 0x90;
    else if (c === 0xf4) high = 0x8f;
  } else return -1;
  if (at + n >= end) return -1;
  const second = bytes[at + 1]!;
  if (second < low || second > high) return -1;
  for (let k = at + 2; k <= at + n; k++) {
    const b = bytes[k]!;
    if (b < 0x80 || b > 0xbf) return -1;
  }
  return at + n;
}

/** The value of `n` ASCII digits at `at`, or -1 if one is not a digit. */
function digits(bytes: Uint8Array, at: number, n: number): number {
  let value = 0;
  for (let k = at; k < at + n; k++) {
    const c = bytes[k]!;
    if (c < ZERO || c > NINE) return -1;
    value = value * 10 + c - ZERO;
  }
  return value;
}

/**
 * The slow path and the reference: parses one CSV line (quotes allowed),
 * validates it as a bet of `agency` with {@linkcode Bet}, and returns it in
 * the form `store_bets` writes, without the agency and the line end. Throws
 * `SyntaxError`, `TypeError` or `RangeError` saying what is wrong.
 */
export function canonicalBetLine(line: string, agency: number): string {
  const fields = parseCsvLine(line);
  if (fields.length !== 5) {
    throw new SyntaxError(
      `Cannot accept bet: ${fields.length} fields, expected 5 (first_name,last_name,document,birthdate,number)`,
    );
  }
  const [firstName, lastName, document, birthdate, number] = fields as [
    string,
    string,
    string,
    string,
    string,
  ];
  const bet = new Bet(agency, firstName, lastName, document, birthdate, number);
  return formatCsvRow([
    bet.firstName,
    bet.lastName,
    bet.document,
    bet.birthdate,
    bet.number,
  ]);
}

const LF = 0x0a;
const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The rows of a batch, in the form `store_bets` writes, ready to append. */
export interface StorageRows {
  /** `agency,first_name,last_name,document,birthdate,number\n` per bet. */
  readonly bytes: Uint8Array;
  /** How many rows. */
  readonly count: number;
}

/**
 * Turns the body of a batch (`count` LF-terminated bet lines) into storage
 * rows of `agency`, validating every bet: fast, byte by byte, for lines
 * already in stored form; through {@linkcode canonicalBetLine} for the rest.
 * Throws `SyntaxError`, `TypeError` or `RangeError` naming the first bad bet
 * (`bet 3 of 100: …`); then nothing of the batch is usable.
 */
export function toStorageRows(
  agency: number,
  body: Uint8Array,
  count = countLines(body),
): StorageRows {
  const prefix = encoder.encode(`${agency},`);
  const p = prefix.length;
  let out: Uint8Array = new Uint8Array(body.length + count * p);
  let at = 0;
  let start = 0;
  for (let index = 0; start < body.length; index++) {
    const end = body.indexOf(LF, start);
    if (end === -1) {
      throw new SyntaxError(
        "Cannot accept bets: the last line has no line end",
      );
    }
    if (isCanonicalBetLine(body, start, end)) {
      if (at + p + end + 1 - start > out.length) {
        out = grow(out, at, p + end + 1 - start);
      }
      // A byte loop: cheaper than a subarray view per line.
      for (let k = 0; k < p; k++) out[at++] = prefix[k]!;
      for (let k = start; k <= end; k++) out[at++] = body[k]!;
    } else {
      let line: Uint8Array;
      try {
        line = encoder.encode(
          canonicalBetLine(decodeLine(body.subarray(start, end)), agency) +
            "\n",
        );
      } catch (error) {
        const problem = error as Error;
        throw new (problem.constructor as ErrorConstructor)(
          `bet ${index + 1} of ${count}: ${problem.message}`,
          { cause: error },
        );
      }
      if (at + p + line.length > out.length) {
        out = grow(out, at, p + line.length);
      }
      out.set(prefix, at);
      out.set(line, at + p);
      at += p + line.length;
    }
    start = end + 1;
  }
  return { bytes: out.subarray(0, at), count };
}

/** A larger copy of the first `used` bytes of `bytes`, with room for `more`. */
function grow(bytes: Uint8Array, used: number, more: number): Uint8Array {
  const grown = new Uint8Array((used + more) * 2);
  grown.set(bytes.subarray(0, used));
  return grown;
}

/** LF-terminated lines in `bytes`. */
export function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(LF); i !== -1; i = bytes.indexOf(LF, i + 1)) n++;
  return n;
}

/**
 * Decodes one line as UTF-8; throws `SyntaxError` if it is not valid UTF-8.
 */
export function decodeLine(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw new SyntaxError("Cannot accept bet: the line is not valid UTF-8", {
      cause: error,
    });
  }
}
