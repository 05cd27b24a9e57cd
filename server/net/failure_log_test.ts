/**
 * Tests of the bounded fail lines of failed attempts.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ActionLog, Fields } from "../../lib/log.ts";
import { FailureLog } from "./failure_log.ts";

function recording(): { log: ActionLog; lines: [string, Fields][] } {
  const lines: [string, Fields][] = [];
  const at = (action: string, _result: string, fields: Fields = {}) => {
    lines.push([action, fields]);
  };
  return { log: { debug: at, info: at, warning: at, error: at }, lines };
}

Deno.test("a burst writes its first lines, then one summary per window", () => {
  const { log, lines } = recording();
  let now = 0;
  {
    using failures = new FailureLog(log, {
      windowMs: 1_000,
      lines: 3,
      now: () => now,
    });
    for (let i = 0; i < 1_000; i++) {
      failures.report("autenticacion", `10.0.0.${i % 7}`, `bad proof ${i}`);
    }
    assert.deepEqual(lines.map(([action, f]) => [action, f.ip, f.error]), [
      ["autenticacion", "10.0.0.0", "bad proof 0"],
      ["autenticacion", "10.0.0.1", "bad proof 1"],
      ["autenticacion", "10.0.0.2", "bad proof 2"],
    ]);
    // The next window: the summary of the last one first, then its own lines.
    now = 1_000;
    failures.report("receive_message", "10.0.0.9", "silent");
    assert.equal(lines.length, 5);
    assert.deepEqual(lines[3], ["failed_attempts", {
      suppressed: 997,
      peers: 7,
      ips: "10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6, 10.0.0.0",
      window_ms: 1_000,
      last_error: "bad proof 999",
    }]);
    assert.deepEqual(lines[4], ["receive_message", {
      ip: "10.0.0.9",
      error: "silent",
    }]);
    for (let i = 0; i < 3; i++) failures.report("autenticacion", "::1", "x");
    assert.equal(lines.length, 7);
  }
  // Disposing writes what was left out.
  assert.equal(lines.length, 8);
  assert.equal(lines[7]![0], "failed_attempts");
  assert.equal(lines[7]![1].suppressed, 1);
});

Deno.test("the summary comes at the end of the window, without a further attempt", async () => {
  const { log, lines } = recording();
  using failures = new FailureLog(log, { windowMs: 50, lines: 1 });
  failures.report("autenticacion", "a", "one");
  failures.report("autenticacion", "b", "two");
  assert.equal(lines.length, 1);
  const deadline = Date.now() + 5_000;
  while (lines.length < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(lines[1]?.[0], "failed_attempts");
  assert.equal(lines[1]?.[1].suppressed, 1);
});
