/**
 * Tests of the benchmark's argument check.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  benchArgs,
  checkResultsPath,
  DEFAULT_SCENARIOS,
} from "./bench_args.ts";

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
      [["--json", "--metrics"], /Cannot run: .*--json/],
      [["--json="], /--json needs a file path/],
      [["--scenario", "5x5\n"], /scenario "5x5\\n"/],
      [["--scenario", "99999999999999999999x1"], /at most 10000 agencies/],
      [["--scenario", "pg-2x60000000"], /at most 100000000 bets/],
      [["--scenario", "pg2-99999x99999999"], /at most 10000 agencies/],
      [["--scenario", "pg2-2x60000000"], /at most 100000000 bets/],
      [["--scenario", "draw100000001"], /at most 100000000 bets/],
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

Deno.test("the results path is checked before a run: a directory or an unwritable place is one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.throws(() => checkResultsPath(dir), /it is a directory/);
    const link = join(dir, "link.json");
    await Deno.symlink(dir, link);
    assert.throws(() => checkResultsPath(link), /it is a directory/);
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "");
    assert.throws(
      () => checkResultsPath(join(file, "bench.json")),
      /Cannot write results to .*bench\.json: /,
    );
    await Deno.writeTextFile(file, "earlier results\n");
    checkResultsPath(file);
    assert.equal(await Deno.readTextFile(file), "earlier results\n");
    const fine = join(dir, "new", "bench.json");
    checkResultsPath(fine);
    assert.deepEqual([...Deno.readDirSync(join(dir, "new"))], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
