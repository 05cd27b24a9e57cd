/**
 * The benchmark's arguments, checked before anything runs: an unknown
 * option, mode or scenario is one line naming it, not a stack trace midway.
 *
 * @module
 */
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
    throw new TypeError(`Cannot run: ${(error as Error).message}`, {
      cause: error,
    });
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
      `Cannot run scenario "${unknown}": use dataset, AxB, pg-AxB, pg2-AxB, drawN or startupN (whole numbers from 1)`,
    );
  }
  return { scenarios, json: values.json, metrics };
}
