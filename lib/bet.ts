/**
 * The course's bet and its winning rule (`Bet`, `has_won`).
 *
 * @module
 */
import type { WireBet } from "../protocol/messages.ts";

/** The winning number of the draw, as in the course's `utils.py`. */
export const LOTTERY_WINNER_NUMBER = 7574;

const DIGITS = /^\d+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/**
 * True if `text` has a control character (C0, DEL, C1) or a line or
 * paragraph separator (U+2028, U+2029): no real name has one, and they
 * break log lines.
 */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (
      c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029
    ) return true;
  }
  return false;
}

/**
 * A format character (Unicode category Cf: zero-width spaces, the BOM,
 * bidirectional overrides, …): invisible, so a name made of them looks
 * empty, and an override reorders what a log line shows.
 */
const FORMAT = /\p{Cf}/u;

/** Characters of a refused value a message quotes. */
const QUOTED_CHARS = 40;

/**
 * `value` in quotes for an error message, cut to its first
 * {@linkcode QUOTED_CHARS} characters and "…": a peer's value may be
 * nearly a frame long, and the refusal must fit in one.
 */
function quote(value: string): string {
  const chars = Array.from(value.slice(0, 2 * QUOTED_CHARS));
  return chars.length > QUOTED_CHARS || value.length > 2 * QUOTED_CHARS
    ? `"${chars.slice(0, QUOTED_CHARS).join("")}…"`
    : `"${value}"`;
}

/**
 * Today's date as `YYYY-MM-DD` (UTC), the latest birthdate a bet may have;
 * `now` in ms since the epoch, the clock by default.
 */
export function currentDay(now: number = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10);
}

/**
 * A bet, as the course's `Bet` class holds it: the agency and the number as
 * integers, the document as a string of digits, the birthdate as a calendar
 * date `YYYY-MM-DD`, not after today. The constructor validates and
 * converts, like the original, and throws `TypeError`, `RangeError` or
 * `SyntaxError` whose message names the field.
 */
export class Bet {
  /** The agency that took the bet (1…AGENCIES). */
  readonly agency: number;
  /** Nombre. */
  readonly firstName: string;
  /** Apellido. */
  readonly lastName: string;
  /** DNI: one or more digits (leading zeros kept). */
  readonly document: string;
  /** A valid calendar date, `YYYY-MM-DD`. */
  readonly birthdate: string;
  /** The number bet on: a non-negative integer. */
  readonly number: number;

  /**
   * Builds and validates a bet from its six values; `today` (`YYYY-MM-DD`,
   * default {@linkcode currentDay}) is the latest birthdate accepted.
   */
  constructor(
    agency: number | string,
    firstName: string,
    lastName: string,
    document: string,
    birthdate: string,
    number: number | string,
    today: string = currentDay(),
  ) {
    this.agency = toInteger("agency", agency);
    if (this.agency < 1) {
      throw new RangeError(
        `Cannot accept bet: agency ${agency} is not positive`,
      );
    }
    this.firstName = checkName("first_name", firstName);
    this.lastName = checkName("last_name", lastName);
    if (!DIGITS.test(document) || document.length > 20) {
      throw new SyntaxError(
        `Cannot accept bet: document ${
          quote(document)
        } is not a string of 1 to 20 digits`,
      );
    }
    this.document = document;
    this.birthdate = checkDate(birthdate, today);
    this.number = toInteger("number", number);
  }

  /**
   * Builds a bet from the five strings of the wire and the agency id;
   * `today` as for the constructor.
   */
  static fromWire(
    agency: number,
    wire: WireBet,
    today: string = currentDay(),
  ): Bet {
    return new Bet(
      agency,
      wire.firstName,
      wire.lastName,
      wire.document,
      wire.birthdate,
      wire.number,
      today,
    );
  }

  /** The five strings of the wire for this bet. */
  toWire(): WireBet {
    return {
      firstName: this.firstName,
      lastName: this.lastName,
      document: this.document,
      birthdate: this.birthdate,
      number: String(this.number),
    };
  }
}

/** `has_won`: true when the bet's number is {@linkcode LOTTERY_WINNER_NUMBER}. */
export function hasWon(bet: Bet): boolean {
  return bet.number === LOTTERY_WINNER_NUMBER;
}

function toInteger(field: string, value: number | string): number {
  const n = typeof value === "number"
    ? value
    : DIGITS.test(value)
    ? Number(value)
    : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new SyntaxError(
      `Cannot accept bet: ${field} ${
        quote(String(value))
      } is not a non-negative integer`,
    );
  }
  return n;
}

function checkName(field: string, value: string): string {
  // Format characters first: `trim` takes U+FEFF for a space.
  const format = FORMAT.exec(value);
  if (format !== null) {
    const code = format[0].codePointAt(0)!.toString(16).toUpperCase();
    throw new TypeError(
      `Cannot accept bet: ${field} contains an invisible format character (U+${
        code.padStart(4, "0")
      })`,
    );
  }
  if (value.trim() === "") {
    throw new TypeError(`Cannot accept bet: ${field} is empty`);
  }
  if (hasControl(value)) {
    throw new TypeError(
      `Cannot accept bet: ${field} contains a control character`,
    );
  }
  return value;
}

function checkDate(value: string, today: string): string {
  const match = DATE.exec(value);
  if (match === null) {
    throw new SyntaxError(
      `Cannot accept bet: birthdate ${quote(value)} is not a date YYYY-MM-DD`,
    );
  }
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (
    date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 ||
    date.getUTCDate() !== d
  ) {
    throw new RangeError(
      `Cannot accept bet: birthdate ${quote(value)} is not a calendar date`,
    );
  }
  // YYYY-MM-DD strings sort as their dates do.
  if (value > today) {
    throw new RangeError(
      `Cannot accept bet: birthdate ${quote(value)} is in the future`,
    );
  }
  return value;
}
