/**
 * Tests of the benchmark's argument check.
 *
 * @module
 */
import assert from "node:assert/strict";
import { benchArgs, DEFAULT_SCENARIOS } from "./bench_args.ts";

Deno.test("the benchmark takes its scenarios, JSON path and metrics mode", () => {
  assert.deepEqual(benchArgs([]), {
    scenarios: [...DEFAULT_SCENARIOS],
    json: "bench-results/bench.json",
    metrics: "off",
  });
  assert.deepEqual(
    benchArgs([
      "--scenario",
      "1000x1",
      "--scenario",
      "pg2-20x100",
      "--scenario",
      "startup5",
      "--metrics",
      "both",
      "--json",
      "/tmp/b.json",
    ]),
    {
      scenarios: ["1000x1", "pg2-20x100", "startup5"],
      json: "/tmp/b.json",
      metrics: "both",
    },
  );
});

Deno.test("the benchmark refuses what it does not know with one line naming it", () => {
  for (
    const [args, message] of [
      [["--scenario", "foo"], /scenario "foo"/],
      [["--scenario", "0x5"], /scenario "0x5"/],
      [["--scenario", "5x1000000", "--scenario", "draw0"], /"draw0"/],
      [["--metrics", "maybe"], /--metrics is off, on or both, not maybe/],
      [["--bogus"], /Cannot run: .*--bogus/],
    ] as const
  ) {
    assert.throws(() => benchArgs(args), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"), error.message);
      return true;
    });
  }
});
