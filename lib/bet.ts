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
/** True if `text` has a C0 control or DEL: no real name has one, and they break log lines. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * A bet, as the course's `Bet` class holds it: the agency and the number as
 * integers, the document as a string of digits, the birthdate as a calendar
 * date `YYYY-MM-DD`. The constructor validates and converts, like the
 * original, and throws `TypeError`, `RangeError` or `SyntaxError` whose
 * message names the field.
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

  /** Builds and validates a bet from its six values. */
  constructor(
    agency: number | string,
    firstName: string,
    lastName: string,
    document: string,
    birthdate: string,
    number: number | string,
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
        `Cannot accept bet: document "${document}" is not a string of 1 to 20 digits`,
      );
    }
    this.document = document;
    this.birthdate = checkDate(birthdate);
    this.number = toInteger("number", number);
  }

  /** Builds a bet from the five strings of the wire and the agency id. */
  static fromWire(agency: number, wire: WireBet): Bet {
    return new Bet(
      agency,
      wire.firstName,
      wire.lastName,
      wire.document,
      wire.birthdate,
      wire.number,
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
      `Cannot accept bet: ${field} "${value}" is not a non-negative integer`,
    );
  }
  return n;
}

function checkName(field: string, value: string): string {
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

function checkDate(value: string): string {
  const match = DATE.exec(value);
  if (match === null) {
    throw new SyntaxError(
      `Cannot accept bet: birthdate "${value}" is not a date YYYY-MM-DD`,
    );
  }
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (
    date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 ||
    date.getUTCDate() !== d
  ) {
    throw new RangeError(
      `Cannot accept bet: birthdate "${value}" is not a calendar date`,
    );
  }
  return value;
}
