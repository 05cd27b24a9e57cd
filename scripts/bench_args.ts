/**
 * The benchmark's arguments, checked before anything runs: an unknown
 * option, mode or scenario is one line naming it, not a stack trace midway.
 *
 * @module
 */
import { dirname } from "node:path";
import { parseArgs } from "node:util";

/** What `deno task bench` was asked to run. */
export interface BenchArgs {
  /** Scenario names, in order (see `bench.ts`). */
  scenarios: string[];
  /** Where the JSON results go. */
  json: string;
  /** The central's metrics endpoint: off, on, or each scenario both ways. */
  metrics: "off" | "on" | "both";
}

/** The scenarios of a run with no `--scenario`: the issue's, then the stored ones. */
export const DEFAULT_SCENARIOS: readonly string[] = [
  "dataset",
  "5x1000000",
  "100x100000",
  "1000x1000",
  "draw10000000",
  "startup10000000",
];

const SCENARIO =
  /^(dataset|((pg|pg2)-)?[1-9]\d*x[1-9]\d*|(draw|startup)[1-9]\d*)$/;
const MODES = ["off", "on", "both"] as const;
/** The most agencies a scenario runs (a pool process holds 50). */
const MAX_AGENCIES = 10_000;
/** The most bets a scenario generates: about 4.4 GB of CSV. */
const MAX_BETS = 100_000_000;

/** Why `name` (a well-formed scenario) is too large to run, or `null`. */
function tooLarge(name: string): string | null {
  const sizes = (name.replace(/^pg2?-/, "").match(/\d+/g) ?? []).map(Number);
  const [agencies, perAgency] = sizes.length === 2 ? sizes : [1, sizes[0]!];
  if (agencies! > MAX_AGENCIES) return `at most ${MAX_AGENCIES} agencies`;
  if (agencies! * perAgency! > MAX_BETS) return `at most ${MAX_BETS} bets`;
  return null;
}

/**
 * Parses the benchmark's command line; throws a `TypeError` whose message
 * is the one line to print for anything it does not know.
 */
export function benchArgs(args: readonly string[]): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        scenario: { type: "string", multiple: true },
        json: { type: "string", default: "bench-results/bench.json" },
        metrics: { type: "string", default: "off" },
      },
    }));
  } catch (error) {
    // Node's parser adds advice on further lines; the first says it all.
    const [line] = (error as Error).message.split("\n");
    throw new TypeError(`Cannot run: ${line}`, { cause: error });
  }
  const metrics = MODES.find((mode) => mode === values.metrics);
  if (metrics === undefined) {
    throw new TypeError(
      `Cannot run: --metrics is off, on or both, not ${values.metrics}`,
    );
  }
  const scenarios = values.scenario ?? [...DEFAULT_SCENARIOS];
  const unknown = scenarios.find((name) => !SCENARIO.test(name));
  if (unknown !== undefined) {
    throw new TypeError(
      `Cannot run scenario ${
        JSON.stringify(unknown)
      }: use dataset, AxB, pg-AxB, pg2-AxB, drawN or startupN (whole numbers from 1)`,
    );
  }
  for (const name of scenarios) {
    const limit = name === "dataset" ? null : tooLarge(name);
    if (limit !== null) {
      throw new TypeError(`Cannot run scenario "${name}": ${limit}`);
    }
  }
  if (values.json.trim() === "") {
    throw new TypeError("Cannot run: --json needs a file path");
  }
  return { scenarios, json: values.json, metrics };
}

/**
 * Checks before a run that its results can be written at `path`: its
 * directory made if need be and writable, the path not a directory. Throws
 * a `TypeError` whose message is the one line to print.
 */
export function checkResultsPath(path: string): void {
  const cannot = (why: string, cause?: unknown) =>
    new TypeError(`Cannot write results to ${path}: ${why}`, { cause });
  try {
    if (Deno.statSync(path).isDirectory) throw cannot("it is a directory");
    // An existing file must be writable: opened, not truncated.
    Deno.openSync(path, { write: true }).close();
  } catch (error) {
    if (error instanceof TypeError) throw error;
    if (!(error instanceof Deno.errors.NotFound)) {
      throw cannot((error as Error).name, error);
    }
  }
  try {
    Deno.mkdirSync(dirname(path), { recursive: true });
    Deno.removeSync(Deno.makeTempFileSync({ dir: dirname(path) }));
  } catch (error) {
    throw cannot(
      `its directory cannot be made or written (${(error as Error).name})`,
      error,
    );
  }
}
