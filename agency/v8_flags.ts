/**
 * The V8 flags every agency runs with, given on its command line
 * (`--v8-flags=…`: the `agency` task, `deno compile`, the images'
 * entrypoints, the launchers of `make build`, the test and benchmark
 * harness; `tests/start_commands_test.ts` checks that each of them does).
 *
 * `--no-concurrent-recompilation`: optimise hot functions on the agency's
 * own thread instead of V8's background threads. An agency runs for a
 * fraction of a second to a few seconds, on a machine usually busy with
 * other agencies and the central; there the background compiler waits for
 * a core while the agency's scan of its file runs unoptimised
 * (measurements in docs/performance.md).
 */
export const AGENCY_V8_FLAGS = "--no-concurrent-recompilation";
