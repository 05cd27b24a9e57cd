import {
  configureSync,
  getLogger,
  type LogLevel,
  type LogRecord,
  resetSync,
} from "@logtape/logtape";

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

const TO_LOGTAPE: Readonly<Record<Level, LogLevel>> = {
  DEBUG: "debug",
  INFO: "info",
  WARNING: "warning",
  ERROR: "error",
  CRITICAL: "fatal",
};
const FROM_LOGTAPE: Readonly<Record<LogLevel, Level>> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

/** True when `name` is one of {@linkcode LEVELS}. */
export function isLevel(name: string): name is Level {
  return (LEVELS as readonly string[]).includes(name);
}

/**
 * Formats one line of the course's log format:
 * `YYYY-MM-DD HH:MM:SS LEVEL    action: <a> | result: <r> | key: value`.
 * Time is local, as in the skeleton. Line breaks in values are escaped so a
 * record is always one line.
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

function escape(value: string): string {
  return value.replace(/[\r\n]/g, (c) => (c === "\n" ? "\\n" : "\\r"));
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

/** The logging set-up of a program: dispose it to reset LogTape. */
export interface Logging extends Disposable {
  /** Changes the threshold, e.g. once the configuration is known. */
  setLevel(level: Level): void;
}

/**
 * Configures LogTape so that every record under the `tp0` category is
 * written, from `level` up, as one line of the course's format through
 * `write` (standard output by default, synchronously, so no line is lost at
 * exit).
 */
export function setupLogging(
  level: Level,
  write: (line: string) => void = writeStdout,
): Logging {
  const sink = (record: LogRecord) => {
    const { action, result, fields } = record.properties as {
      action: string;
      result: Result;
      fields?: Fields;
    };
    write(
      formatLine(
        new Date(record.timestamp),
        FROM_LOGTAPE[record.level],
        action,
        result,
        fields,
      ) + "\n",
    );
  };
  const apply = (threshold: Level) =>
    configureSync({
      reset: true,
      sinks: { course: sink },
      loggers: [
        {
          category: ["tp0"],
          lowestLevel: TO_LOGTAPE[threshold],
          sinks: ["course"],
        },
        { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
      ],
    });
  apply(level);
  return {
    setLevel: apply,
    [Symbol.dispose]: () => resetSync(),
  };
}

/** The log of one part of the program (`central`, `worker`, `agency`). */
export function getLog(part: string): ActionLog {
  const logger = getLogger(["tp0", part]);
  const at =
    (level: "debug" | "info" | "warning" | "error") =>
    (action: string, result: Result, fields?: Fields) =>
      logger[level]("{action}", { action, result, fields });
  return {
    debug: at("debug"),
    info: at("info"),
    warning: at("warning"),
    error: at("error"),
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
