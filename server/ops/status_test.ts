/**
 * Tests of `central status`'s table (the JSON and the reading of a real
 * storage directory are tested with a real central in tests/ops_test.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { statusTable } from "./status.ts";

Deno.test("the table: a row per agency, then the totals and the draw", () => {
  const text = statusTable("/s", {
    agencies: [
      { agency: 1, stored: 1000, total: 1000, finished: true, winners: null },
      { agency: 12, stored: 5, total: null, finished: false, winners: null },
    ],
    stored: 1005,
    finished: 1,
    draw: null,
  });
  assert.equal(
    text,
    [
      "storage: /s",
      "agency  stored    of  finished  winners",
      "1         1000  1000       yes        -",
      "12           5     ?        no        -",
      "bets stored: 1005; agencies finished: 1",
      "draw: not made",
      "",
    ].join("\n"),
  );
});

Deno.test("after the draw: each agency's winners, the draw's time and digest", () => {
  const text = statusTable("/s", {
    agencies: [
      { agency: 1, stored: 3, total: 3, finished: true, winners: 2 },
    ],
    stored: 3,
    finished: 1,
    draw: {
      total: 2,
      digest: "ab".repeat(32),
      at: new Date("2026-01-02T03:04:05.000Z"),
    },
  });
  assert.match(text, /^1 +3 +3 +yes +2$/m);
  assert.match(
    text,
    new RegExp(
      `^draw: made at 2026-01-02T03:04:05.000Z; 2 winners; digest ${
        "ab".repeat(32)
      }$`,
      "m",
    ),
  );
});
