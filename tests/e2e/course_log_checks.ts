/**
 * The course-harness mode's log checks (see `course.ts`): the merged
 * `compose logs -f` stream read line by line, and every line of every
 * container held to the harness's parser afterwards.
 *
 * @module
 */
import { type CourseRecord, parseCourseLine } from "./course_log.ts";
import { check, dc, FILE, type Harness } from "./course_harness.ts";

/** What a scenario does with each parsed line; true ends the reading. */
export type OnRecord = (record: CourseRecord, index: number) => boolean | void;

/**
 * Reads `compose logs -f` line by line, as the harness does, until
 * `onRecord` says so, the stream ends or the deadline passes. Returns the
 * parse errors and whether `onRecord` ended it.
 */
export async function follow(
  h: Harness,
  onRecord: OnRecord,
  timeoutMs: number,
): Promise<{ errors: string[]; ended: boolean }> {
  const [command, ...rest] = h.compose;
  const child = new Deno.Command(command!, {
    args: [...rest, "-f", FILE, "logs", "-f"],
    cwd: h.repo,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  // SIGKILL: a `docker compose` that wraps docker-compose 1.29 can outlive
  // SIGTERM, and waiting for its exit would hang the run.
  const stop = () => {
    try {
      child.kill("SIGKILL");
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
  };
  const timer = setTimeout(stop, timeoutMs);
  const errors: string[] = [];
  let ended = false;
  let index = 0;
  let pending = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of child.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      let lf;
      while (!ended && (lf = pending.indexOf("\n")) !== -1) {
        // docker-compose 1.29 colours its prefixes even into a pipe
        // (compose v2 does not): the harness reads them uncoloured.
        const line = pending.slice(0, lf).replace(ANSI, "");
        pending = pending.slice(lf + 1);
        index++;
        let record: CourseRecord | null = null;
        try {
          record = parseCourseLine(line);
        } catch (error) {
          errors.push((error as Error).message);
        }
        if (onRecord(record ?? UNPARSED, index)) ended = true;
      }
      if (ended) break;
    }
  } finally {
    clearTimeout(timer);
    stop();
    await child.status;
  }
  return { errors, ended };
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

const UNPARSED: CourseRecord = {
  source: "",
  action: "",
  result: "",
  details: {},
};

/**
 * Every line of every container, held to the parser; with `failsAllowed`
 * false, none may say `result: fail`. Returns the parsed records: what a
 * scenario checks is read here, after its end, since the merged stream
 * may end before another container's earlier lines were printed.
 */
export async function checkAllLines(
  h: Harness,
  failsAllowed = false,
): Promise<CourseRecord[]> {
  // Not --no-color: a wrapper that adds it itself refuses it twice and
  // prints its usage; colours (docker-compose 1.29 colours a pipe) are stripped.
  const output = (await dc(h, ["logs"])).output.replace(ANSI, "");
  const errors: string[] = [];
  const fails: string[] = [];
  const records: CourseRecord[] = [];
  let lines = 0;
  for (const line of output.split("\n")) {
    if (line.trim() === "") continue;
    lines++;
    try {
      const record = parseCourseLine(line);
      if (record === null) continue;
      records.push(record);
      if (record.result === "fail" && record.action !== "exit") {
        fails.push(line);
      }
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  check(
    `every line of every container parses (${lines} lines)`,
    errors.length === 0,
    errors.slice(0, 3).join("; "),
  );
  if (!failsAllowed) {
    check(
      "no result: fail in any container",
      fails.length === 0,
      fails.slice(0, 3).join("\n"),
    );
  }
  return records;
}

/** Checks that every line streamed parsed. */
export function noParseErrors(errors: string[]): void {
  check(
    "every streamed line parses",
    errors.length === 0,
    errors.slice(0, 3).join("; "),
  );
}

/**
 * Reads the stream until every client has exited (the harness's end of a
 * run), checking on the way that every line parses and none says fail;
 * then every line of every container. Returns the exits and those lines.
 */
export async function untilClientsExit(
  h: Harness,
  clients: number,
  timeoutMs: number,
): Promise<{ exits: Map<string, string>; records: CourseRecord[] }> {
  const exits = new Map<string, string>();
  let fails = 0;
  const names = Array.from({ length: clients }, (_, i) => `client${i + 1}`);
  const { errors, ended } = await follow(h, (r) => {
    if (r.result === "fail" && r.action !== "exit") fails++;
    if (r.action === "exit") exits.set(r.source, r.result);
    return names.every((name) => exits.has(name));
  }, timeoutMs);
  noParseErrors(errors);
  check(`every client exited (${clients})`, ended);
  check("no result: fail streamed", fails === 0);
  for (const name of names) {
    check(`${name} exited 0`, exits.get(name) === "success");
  }
  return { exits, records: await checkAllLines(h) };
}

/** The records of `action` with result success. */
export function successes(
  records: CourseRecord[],
  action: string,
): CourseRecord[] {
  return records.filter((r) => r.action === action && r.result === "success");
}
