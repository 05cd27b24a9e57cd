/**
 * Bet lines checked and turned into the rows bets.csv stores, without
 * building a bet each.
 *
 * @module
 */
import { Bet, currentDay } from "./bet.ts";
import { concatBytes } from "./concat_bytes.ts";
import { formatCsvRow, parseCsvLine } from "./csv.ts";

const COMMA = 0x2c;
const QUOTE = 0x22;
const ZERO = 0x30;
const NINE = 0x39;
const DASH = 0x2d;
const LF = 0x0a;
const CR = 0x0d;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/**
 * Name bytes, by class: a visible ASCII character, a space, the comma that
 * ends the field, a lead byte of a longer UTF-8 sequence, anything else.
 */
const VISIBLE = 0;
const SPACE = 1;
const FIELD_END = 2;
const MULTIBYTE = 3;
const REFUSED = 4;
const NAME_BYTE = new Uint8Array(256).map((_, c) =>
  c < 0x20 || c === 0x7f || c === QUOTE
    ? REFUSED
    : c === COMMA
    ? FIELD_END
    : c === 0x20
    ? SPACE
    : c > 0x7f
    ? MULTIBYTE
    : VISIBLE
);

/**
 * The fast check of one bet line, `first_name,last_name,document,birthdate,
 * number`, starting at `bytes[start]` and ending at the first LF, CR LF, or
 * `limit`; made byte by byte with no allocation, finding the line's end as it
 * goes. Returns where the line's content ends (the LF, the CR of a CR LF, or
 * `limit`) when the line is a valid bet exactly as {@linkcode Bet} judges it
 * on `today` (`YYYY-MM-DD`, the latest birthdate accepted)
 * *and* already in the form `store_bets` writes (no quotes, the number
 * without leading zeros), so it can be stored as it is. Returns -1 for "not
 * sure": the caller takes the slow path, {@linkcode canonicalBetLine}, which
 * decides and explains.
 *
 * Names may hold any valid UTF-8; invalid UTF-8 is left to the slow path,
 * which refuses it.
 */
export function canonicalBetLineEnd(
  bytes: Uint8Array,
  start: number,
  limit: number,
  today: string,
): number {
  // Names: non-empty after trimming (an ASCII letter or sign guarantees it),
  // no control character (C1 and U+2028/U+2029 included) or format
  // character (Cf), no comma or quote
  // (those would need quoting).
  // A run of visible bytes is the common case: one lookup per byte. Past
  // the end of `bytes` a read gives `undefined`, which is no class, so the
  // runs stop there; a run that passes `limit` is refused after it.
  let i = start;
  for (let field = 0; field < 2; field++) {
    let visible = false;
    for (;;) {
      const run = i;
      let kind: number | undefined;
      while ((kind = NAME_BYTE[bytes[i]!]) === VISIBLE) i++;
      if (i > run) visible = true;
      if (i >= limit) return -1;
      if (kind === FIELD_END) break;
      if (kind === SPACE) i++;
      else if (kind === MULTIBYTE) {
        if (isLineBreakOrC1(bytes, i)) return -1;
        const lead = i;
        if ((i = utf8Sequence(bytes, i, limit)) < 0) return -1;
        if (isFormat(bytes, lead, i)) return -1;
        i++;
      } else return -1;
    }
    if (!visible) return -1;
    i++;
  }
  // Document: 1 to 20 digits.
  const document = i;
  while (isDigit(bytes[i]!)) i++;
  if (
    i === document || i - document > 20 || i >= limit || bytes[i] !== COMMA
  ) return -1;
  i++;
  // Birthdate: YYYY-MM-DD, a calendar date from year 1000 on, not after today.
  if (limit - i < 11 || bytes[i + 4] !== DASH || bytes[i + 7] !== DASH) {
    return -1;
  }
  const y = digits(bytes, i, 4);
  const m = digits(bytes, i + 5, 2);
  const d = digits(bytes, i + 8, 2);
  if (y < 1000 || m < 1 || m > 12 || d < 1) return -1;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > DAYS[m - 1]! + (m === 2 && leap ? 1 : 0)) return -1;
  if (isAfter(bytes, i, today)) return -1;
  i += 10;
  if (bytes[i] !== COMMA) return -1;
  i++;
  // Number: digits with no leading zero (or just "0"), safely an integer.
  const number = i;
  while (i < limit && isDigit(bytes[i]!)) i++;
  const length = i - number;
  if (length < 1 || length > 15 || (length > 1 && bytes[number] === ZERO)) {
    return -1;
  }
  // The line ends here, or it is not a bet line.
  if (i === limit || bytes[i] === LF) return i;
  if (bytes[i] === CR && (i + 1 === limit || bytes[i + 1] === LF)) return i;
  return -1;
}

/**
 * True if the UTF-8 sequence at `at` is a C1 control (C2 80 … C2 9F) or
 * U+2028/U+2029 (E2 80 A8/A9). Bytes past the end read as `undefined`,
 * which matches nothing.
 */
function isLineBreakOrC1(bytes: Uint8Array, at: number): boolean {
  const c = bytes[at];
  if (c === 0xc2) return bytes[at + 1]! < 0xa0;
  return c === 0xe2 && bytes[at + 1] === 0x80 &&
    (bytes[at + 2] === 0xa8 || bytes[at + 2] === 0xa9);
}

const FORMAT = /\p{Cf}/u;

/**
 * True if the valid UTF-8 sequence `bytes[lead..last]` is a format
 * character (category Cf), which {@linkcode Bet} refuses in names. Below
 * U+0600 (the accented letters of Spanish names) only U+00AD is one, so
 * those are told without building a string.
 */
function isFormat(bytes: Uint8Array, lead: number, last: number): boolean {
  const c = bytes[lead]!;
  if (last === lead + 1 && c < 0xd8) return c === 0xc2 && bytes[last] === 0xad;
  let cp = c & (last === lead + 1 ? 0x1f : last === lead + 2 ? 0x0f : 0x07);
  for (let k = lead + 1; k <= last; k++) cp = (cp << 6) | (bytes[k]! & 0x3f);
  return FORMAT.test(String.fromCodePoint(cp));
}

/** True if the 10 bytes `YYYY-MM-DD` at `at` are a later date than `day`. */
function isAfter(bytes: Uint8Array, at: number, day: string): boolean {
  for (let k = 0; k < 10; k++) {
    const difference = bytes[at + k]! - day.charCodeAt(k);
    if (difference !== 0) return difference > 0;
  }
  return false;
}

/**
 * True for an ASCII digit; false for any other byte, and for the
 * `undefined` of a read past the end (`undefined ^ 0x30` is 0x30).
 */
function isDigit(c: number): boolean {
  return (c ^ ZERO) < 10;
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
 * validates it as a bet of `agency` on `today` with {@linkcode Bet}, and returns it in
 * the form `store_bets` writes, without the agency and the line end. Throws
 * `SyntaxError`, `TypeError` or `RangeError` saying what is wrong.
 */
export function canonicalBetLine(
  line: string,
  agency: number,
  today: string,
): string {
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
  const bet = new Bet(
    agency,
    firstName,
    lastName,
    document,
    birthdate,
    number,
    today,
  );
  return formatCsvRow([
    bet.firstName,
    bet.lastName,
    bet.document,
    bet.birthdate,
    bet.number,
  ]);
}

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
 * Turns the body of a batch of `agency` (`count` LF-terminated rows, each
 * `agency,first_name,last_name,document,birthdate,number`, the form
 * `store_bets` writes) into storage rows, validating every bet: fast, byte
 * by byte, for rows already in stored form, which are kept as they are;
 * through {@linkcode canonicalBetLine} for the rest. When every row is in
 * stored form, the usual case, the rows are `body` itself, not a copy: they
 * are valid as long as `body` is. `today` (`YYYY-MM-DD`, default
 * {@linkcode currentDay}) is the latest birthdate accepted. Throws `SyntaxError`, `TypeError` or `RangeError`
 * naming the first bad bet (`bet 3 of 100: …`), a row of another agency
 * among them; then nothing of the batch is usable.
 */
export function toStorageRows(
  agency: number,
  body: Uint8Array,
  count = countLines(body),
  today: string = currentDay(),
): StorageRows {
  const prefix = encoder.encode(`${agency},`);
  let start = 0;
  let index = 0;
  while (start < body.length) {
    const end = storedRowEnd(body, start, prefix, today);
    if (end < 0) break;
    start = end + 1;
    index++;
  }
  if (start === body.length) return { bytes: body, count };
  // The slow path, from the first row not in stored form.
  const parts: Uint8Array[] = [body.subarray(0, start)];
  for (let end; start < body.length; start = end + 1, index++) {
    end = storedRowEnd(body, start, prefix, today);
    if (end >= 0) {
      parts.push(body.subarray(start, end + 1));
      continue;
    }
    end = body.indexOf(LF, start);
    if (end === -1) {
      throw new SyntaxError(
        "Cannot accept bets: the last line has no line end",
      );
    }
    try {
      if (!startsWith(body, start, prefix)) {
        throw new SyntaxError(
          `Cannot accept bet: the row does not start with its agency, ${agency}`,
        );
      }
      const line = decodeLine(body.subarray(start + prefix.length, end));
      parts.push(
        encoder.encode(`${agency},${canonicalBetLine(line, agency, today)}\n`),
      );
    } catch (error) {
      const problem = error as Error;
      throw new (problem.constructor as ErrorConstructor)(
        `bet ${index + 1} of ${count}: ${problem.message}`,
        { cause: error },
      );
    }
  }
  return { bytes: concatBytes(parts), count };
}

/**
 * Where the LF of the row at `start` is, if the row is `prefix` followed by
 * a bet line in stored form; -1 otherwise.
 */
function storedRowEnd(
  bytes: Uint8Array,
  start: number,
  prefix: Uint8Array,
  today: string,
): number {
  if (!startsWith(bytes, start, prefix)) return -1;
  const end = canonicalBetLineEnd(
    bytes,
    start + prefix.length,
    bytes.length,
    today,
  );
  return end >= 0 && bytes[end] === LF ? end : -1;
}

function startsWith(
  bytes: Uint8Array,
  start: number,
  prefix: Uint8Array,
): boolean {
  if (start + prefix.length > bytes.length) return false;
  for (let k = 0; k < prefix.length; k++) {
    if (bytes[start + k] !== prefix[k]) return false;
  }
  return true;
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
