/**
 * Tests of the command-line parsing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseFlags } from "./cli.ts";
import { ConfigError } from "./config_error.ts";

const FLAGS = { id: "id", period: "loop-period" } as const;

Deno.test("flags: both forms, the config path, positionals", () => {
  const parsed = parseFlags(
    ["--id", "-3", "--loop-period=5s", "--config", "a.yaml", "worker"],
    FLAGS,
    "./config.yaml",
    true,
  );
  assert.equal(parsed.configPath, "a.yaml");
  assert.deepEqual(parsed.overrides, { id: "-3", period: "5s" });
  assert.deepEqual(parsed.positionals, ["worker"]);
  assert.equal(
    parseFlags([], FLAGS, "./config.yaml").configPath,
    "./config.yaml",
  );
  assert.deepEqual(
    parseFlags(["--", "--id"], FLAGS, "x", true).positionals,
    ["--id"],
  );
  assert.deepEqual(parseFlags(["--id="], FLAGS, "x").overrides, { id: "" });
});

Deno.test("flags: unknown, valueless and stray arguments name the culprit", () => {
  const cases: [string[], RegExp][] = [
    [["--nope", "1"], /--nope is not a known option/],
    [["-i", "1"], /-i is not a known option/],
    [["--id"], /--id needs a value/],
    [["--id", "--config", "x"], /--id needs a value/],
    [["stray"], /command line has unexpected argument "stray"/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseFlags(argv, FLAGS, "x"),
      (e) => e instanceof ConfigError && message.test(e.message),
      argv.join(" "),
    );
  }
});
