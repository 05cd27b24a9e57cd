/**
 * Tests of the rate-limited fail lines.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ActionLog, Fields, Result } from "./log.ts";
import { ThrottledLog } from "./log_throttle.ts";

function recorder(): { log: ActionLog; lines: string[] } {
  const lines: string[] = [];
  const at =
    (level: string) => (action: string, result: Result, fields?: Fields) =>
      lines.push(
        `${level} ${action} ${result} ${JSON.stringify(fields ?? {})}`,
      );
  return {
    lines,
    log: {
      debug: at("DEBUG"),
      info: at("INFO"),
      warning: at("WARNING"),
      error: at("ERROR"),
    },
  };
}

Deno.test("a storm of fail lines is one line, then one summary per period", async () => {
  const { log, lines } = recorder();
  using throttled = new ThrottledLog(log, ["accept_connections"], 50);
  for (let i = 0; i < 500; i++) {
    throttled.error("accept_connections", "fail", { error: `e${i}` });
  }
  throttled.info("accept_connections", "success", { ip: "x" });
  throttled.error("other", "fail");
  assert.deepEqual(lines, [
    'ERROR accept_connections fail {"error":"e0"}',
    'INFO accept_connections success {"ip":"x"}',
    "ERROR other fail {}",
  ]);
  const deadline = Date.now() + 5_000;
  while (lines.length < 4 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(
    lines[3],
    'ERROR accept_connections fail {"error":"e499","repeated":499}',
  );
  // A period with nothing held back ends the series: the next line is
  // written at once.
  while (lines.length < 5 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 120));
    throttled.warning("accept_connections", "fail", { error: "later" });
  }
  assert.equal(lines[4], 'WARNING accept_connections fail {"error":"later"}');
});

Deno.test("its methods work passed around as functions, as createLog's do", () => {
  const { log, lines } = recorder();
  using throttled = new ThrottledLog(log, []);
  const { info, error } = throttled;
  info("a", "success");
  (lines.length > 0 ? error : info)("b", "fail");
  assert.deepEqual(lines, ["INFO a success {}", "ERROR b fail {}"]);
});

Deno.test("disposing writes what is held back", () => {
  const { log, lines } = recorder();
  {
    using throttled = new ThrottledLog(log, ["storage_write"], 60_000);
    throttled.error("storage_write", "fail", { error: "full" });
    throttled.error("storage_write", "fail", { error: "full" });
    throttled.error("storage_write", "fail", { error: "full" });
  }
  assert.deepEqual(lines, [
    'ERROR storage_write fail {"error":"full"}',
    'ERROR storage_write fail {"error":"full","repeated":2}',
  ]);
});
