/**
 * The course's log lines, for both programs.
 *
 * @module
 */
/** The level names of `LOGGING_LEVEL` / `log.level`, as the course spells them. */
export const LEVELS = [
  "DEBUG",
  "INFO",
  "WARNING",
  "ERROR",
  "CRITICAL",
] as const;

/** One of {@linkcode LEVELS}. */
export type Level = typeof LEVELS[number];

/** The three results the course's log parser accepts. */
export type Result = "success" | "fail" | "in_progress";

/** The `key: value` fields after `action` and `result`, in order. */
export type Fields = Readonly<Record<string, string | number | bigint>>;

const RANK: Readonly<Record<Level, number>> = {
  DEBUG: 10,
  INFO: 20,
  WARNING: 30,
  ERROR: 40,
  CRITICAL: 50,
};

/** True when `name` is one of {@linkcode LEVELS}. */
export function isLevel(name: string): name is Level {
  return (LEVELS as readonly string[]).includes(name);
}

/**
 * Formats one line of the course's log format:
 * `YYYY-MM-DD HH:MM:SS LEVEL    action: <a> | result: <r> | key: value`.
 * Time is local, as in the skeleton. Control characters in values (line
 * breaks, ESC, NUL, C1, U+2028/2029) are escaped (`\\n`, `\\x1b`, `\\u2028`),
 * so a record is always one line that cannot drive a terminal, and `|`
 * becomes `¦`, so a value stays one field.
 */
export function formatLine(
  date: Date,
  level: Level,
  action: string,
  result: Result,
  fields: Fields = {},
): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const stamp = `${date.getFullYear()}-${p(date.getMonth() + 1)}-${
    p(date.getDate())
  } ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
  let line = `${stamp} ${
    level.padEnd(8)
  } action: ${action} | result: ${result}`;
  for (const [key, value] of Object.entries(fields)) {
    line += ` | ${key}: ${escape(String(value))}`;
  }
  return line;
}

// A line break would split the record; a `|` would split a field for the
// course's parser (it splits every line on `|`); any other control
// character (ESC, BEL, NUL, C1, the Unicode line separators) could rewrite
// a terminal or a viewer's lines, so each is written as an escape.
function escape(value: string): string {
  return value.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f-\x9f\u2028\u2029|]/g,
    (c) => ESCAPES[c] ?? hexEscape(c.charCodeAt(0)),
  );
}

const ESCAPES: Readonly<Record<string, string>> = {
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "|": "¦",
};

function hexEscape(code: number): string {
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** The logging surface every part of the program uses. */
export interface ActionLog {
  /** Logs at DEBUG. */
  debug(action: string, result: Result, fields?: Fields): void;
  /** Logs at INFO. */
  info(action: string, result: Result, fields?: Fields): void;
  /** Logs at WARNING. */
  warning(action: string, result: Result, fields?: Fields): void;
  /** Logs at ERROR. */
  error(action: string, result: Result, fields?: Fields): void;
}

/** A program's log: an {@linkcode ActionLog} whose threshold can change. */
export interface Logging extends ActionLog {
  /** Changes the threshold, e.g. once the configuration is known. */
  setLevel(level: Level): void;
}

/**
 * The log of a program: every record from `level` up is written as one line
 * of the course's format through `write` (standard output by default,
 * synchronously, so no line is lost at exit). No logging library: this is
 * all the program needs, and an agency starts sooner without one.
 */
export function createLog(
  level: Level,
  write: (line: string) => void = writeStdout,
): Logging {
  let threshold = RANK[level];
  const at = (level: Level) =>
  (
    action: string,
    result: Result,
    fields?: Fields,
  ): void => {
    if (RANK[level] < threshold) return;
    write(formatLine(new Date(), level, action, result, fields) + "\n");
  };
  return {
    setLevel: (level) => {
      threshold = RANK[level];
    },
    debug: at("DEBUG"),
    info: at("INFO"),
    warning: at("WARNING"),
    error: at("ERROR"),
  };
}

const encoder = new TextEncoder();

function writeStdout(line: string): void {
  let bytes = encoder.encode(line);
  try {
    while (bytes.length > 0) {
      bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
    }
  } catch (error) {
    // A reader that went away (a closed pipe) must not take the process
    // down with it: the line is lost, which is all that can happen to it.
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  }
}
