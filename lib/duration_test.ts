/**
 * Tests of Go-style durations.
 *
 * @module
 */
import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "./duration.ts";

Deno.test("durations print the way Go prints them", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [1, "1ns"],
    [1_500, "1.5µs"],
    [50e6, "50ms"],
    [100e6, "100ms"],
    [250e6, "250ms"],
    [1.5e6, "1.5ms"],
    [5e9, "5s"],
    [1.5e9, "1.5s"],
    [60e9, "1m0s"],
    [90e9, "1m30s"],
    [3600e9, "1h0m0s"],
    [(2 * 3600 + 45 * 60) * 1e9, "2h45m0s"],
    [61e9 + 1, "1m1.000000001s"],
    [-5e9, "-5s"],
  ];
  for (const [ns, text] of cases) assert.equal(formatDuration(ns), text, text);
});

Deno.test("Go duration syntax parses, and what Go prints parses back", () => {
  const cases: [string, number][] = [
    ["0", 0],
    ["5s", 5e9],
    ["50ms", 50e6],
    ["1m", 60e9],
    ["1.5h", 5400e9],
    ["2h45m", 9900e9],
    ["300us", 300e3],
    ["300µs", 300e3],
    [".5s", 0.5e9],
    ["1m0s", 60e9],
    ["+2s", 2e9],
    ["-2s", -2e9],
  ];
  for (const [text, ns] of cases) assert.equal(parseDuration(text), ns, text);
  for (const ns of [1, 1_500, 100e6, 5e9, 61e9 + 1, 9900e9]) {
    assert.equal(parseDuration(formatDuration(ns)), ns);
  }
});

Deno.test("malformed durations are SyntaxErrors that say why", () => {
  for (const text of ["", "5", "s", "5 s", "5sec", "1.2.3s", "abc", "-"]) {
    assert.throws(() => parseDuration(text), SyntaxError, JSON.stringify(text));
  }
  assert.throws(() => parseDuration("5d"), /unknown unit "d"/);
});
