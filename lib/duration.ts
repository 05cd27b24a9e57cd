/**
 * Go-style durations (`50ms`, `5s`, `1m0s`), parsed and printed.
 *
 * @module
 */
/** Nanoseconds per unit, for Go's duration syntax. */
const UNITS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  "µs": 1e3, // U+00B5 micro sign
  "μs": 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

const TERM = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/;

/**
 * Parses a duration written the way Go's `time.ParseDuration` accepts it
 * (`300ms`, `1.5s`, `2h45m`, `0`) and returns nanoseconds. Throws
 * `SyntaxError` for anything else.
 */
export function parseDuration(text: string): number {
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") {
    throw new SyntaxError(`Cannot parse duration "${text}": it is empty`);
  }
  let total = 0;
  while (rest !== "") {
    const match = TERM.exec(rest);
    const [whole, int = "", frac = "", unit = ""] = match ?? [];
    if (match === null || (int === "" && frac === "")) {
      throw new SyntaxError(
        `Cannot parse duration "${text}": expected a number and a unit such as 5s or 100ms`,
      );
    }
    const scale = UNITS[unit];
    if (scale === undefined) {
      throw new SyntaxError(
        `Cannot parse duration "${text}": unknown unit "${unit}" (use ns, us, ms, s, m or h)`,
      );
    }
    total += Number(int || "0") * scale +
      (frac === "" ? 0 : Math.round(Number(`0.${frac}`) * scale));
    rest = rest.slice(whole!.length);
  }
  if (!Number.isSafeInteger(total)) {
    throw new SyntaxError(`Cannot parse duration "${text}": it is too long`);
  }
  return sign * total;
}

/**
 * Prints nanoseconds the way Go's `Duration.String` does: `0s`, `1.5µs`,
 * `100ms`, `5s`, `1m0s`, `2h45m0s`.
 */
export function formatDuration(nanoseconds: number): string {
  if (!Number.isSafeInteger(nanoseconds)) {
    throw new RangeError(
      `Cannot format duration: ${nanoseconds} is not a whole number of nanoseconds`,
    );
  }
  if (nanoseconds < 0) return `-${formatDuration(-nanoseconds)}`;
  if (nanoseconds === 0) return "0s";
  if (nanoseconds < 1e3) return `${nanoseconds}ns`;
  if (nanoseconds < 1e6) return `${fraction(nanoseconds, 3)}µs`;
  if (nanoseconds < 1e9) return `${fraction(nanoseconds, 6)}ms`;
  const seconds = fraction(nanoseconds % 60e9, 9);
  const minutes = Math.floor(nanoseconds / 60e9);
  if (minutes === 0) return `${seconds}s`;
  const hours = Math.floor(minutes / 60);
  if (hours === 0) return `${minutes}m${seconds}s`;
  return `${hours}h${minutes % 60}m${seconds}s`;
}

/** `value / 10^digits` printed with its fraction, trailing zeros dropped. */
function fraction(value: number, digits: number): string {
  const scale = 10 ** digits;
  const int = Math.floor(value / scale);
  const frac = String(value % scale).padStart(digits, "0").replace(/0+$/, "");
  return frac === "" ? String(int) : `${int}.${frac}`;
}
