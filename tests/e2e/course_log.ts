/**
 * The rules by which the course's harness reads a `docker compose logs`
 * line, re-stated as code: a line containing `action:` is split on `|`
 * into source, action, result and `key: value` details (each split at its
 * last colon); a line containing ` exited with code N` is an exit. A line
 * the harness would reject (an unknown result, a detail without a colon,
 * fewer than three fields, a detail named like a field) throws.
 */

/** One parsed line. `exit` is the action of an `exited with code` line. */
export interface CourseRecord {
  /** The compose prefix, e.g. `client1`. */
  readonly source: string;
  /** The action, or `exit`. */
  readonly action: string;
  /** `success`, `fail` or `in_progress` (an exit: `success` for code 0). */
  readonly result: string;
  /** The details, by name. */
  readonly details: Readonly<Record<string, string>>;
}

const RESULTS = new Set(["success", "fail", "in_progress"]);
const EXIT = " exited with code ";

/** Parses one line by the harness's rules: null when it holds neither. */
export function parseCourseLine(raw: string): CourseRecord | null {
  const line = raw.trimEnd();
  if (line.includes("action:")) return parseAction(line);
  const at = line.indexOf(EXIT);
  if (at === -1) return null;
  const code = line.slice(at + EXIT.length).trim();
  if (!/^-?\d+$/.test(code) || line.indexOf(EXIT, at + 1) !== -1) {
    throw new SyntaxError(`Cannot parse exit line "${line}"`);
  }
  return {
    source: line.slice(0, at).trim(),
    action: "exit",
    result: Number(code) === 0 ? "success" : "fail",
    details: { code },
  };
}

function parseAction(line: string): CourseRecord {
  const [source, action, result, ...rest] = line.split("|");
  if (result === undefined) {
    throw new SyntaxError(`Cannot parse "${line}": fewer than three fields`);
  }
  const value = (field: string) => field.split(":").at(-1)!.trim();
  const record = {
    source: source!.trim(),
    action: value(action!),
    result: value(result),
    details: {} as Record<string, string>,
  };
  if (!RESULTS.has(record.result)) {
    throw new SyntaxError(
      `Cannot parse "${line}": unknown result "${record.result}"`,
    );
  }
  for (const detail of rest) {
    const colon = detail.lastIndexOf(":");
    if (colon === -1) {
      throw new SyntaxError(
        `Cannot parse "${line}": detail "${detail}" has no colon`,
      );
    }
    const name = detail.slice(0, colon).trim();
    if (name === "source" || name === "action" || name === "result") {
      throw new SyntaxError(
        `Cannot parse "${line}": detail named "${name}"`,
      );
    }
    record.details[name] = detail.slice(colon + 1).trim();
  }
  return record;
}
