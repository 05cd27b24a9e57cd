/**
 * Tests of the course's log line format.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createLog, formatLine } from "./log.ts";

Deno.test("lines follow the course's format", () => {
  const date = new Date(2024, 7, 21, 22, 11, 5);
  assert.equal(
    formatLine(date, "INFO", "apuesta_enviada", "success", {
      dni: "30904465",
      numero: 7574,
    }),
    "2024-08-21 22:11:05 INFO     action: apuesta_enviada | result: success | dni: 30904465 | numero: 7574",
  );
  assert.equal(
    formatLine(date, "DEBUG", "config", "success"),
    "2024-08-21 22:11:05 DEBUG    action: config | result: success",
  );
  assert.match(
    formatLine(date, "ERROR", "receive_message", "fail", { msg: "a\nb" }),
    /msg: a\\nb$/,
  );
  assert.match(
    formatLine(date, "INFO", "receive_message", "success", { msg: "a | b|c" }),
    /\| result: success \| msg: a ¦ b¦c$/,
  );
});

Deno.test("control characters in values cannot split or drive the log", () => {
  const date = new Date(2024, 7, 21, 22, 11, 5);
  // A peer's text that fakes a second record and drives a terminal.
  const line = formatLine(date, "INFO", "receive_message", "success", {
    msg:
      "x\r2024-08-21 22:11:05 INFO     action: sorteo\x1b[2K\x07\x00\x85\u2028\u2029\x7f\tend",
  });
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(line, /[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
  assert.match(
    line,
    /msg: x\\r2024-08-21 22:11:05 INFO {5}action: sorteo\\x1b\[2K\\x07\\x00\\x85\\u2028\\u2029\\x7f\\tend$/,
  );
});

Deno.test("the level threshold filters records", () => {
  const lines: string[] = [];
  const log = createLog("WARNING", (line) => lines.push(line));
  log.info("hidden", "success");
  log.warning("shown", "in_progress", { n: 1 });
  log.error("also_shown", "fail");
  log.setLevel("DEBUG");
  log.debug("now_shown", "success");
  assert.equal(lines.length, 3);
  assert.match(
    lines[0]!,
    / WARNING {2}action: shown \| result: in_progress \| n: 1\n$/,
  );
  assert.match(lines[1]!, / ERROR {4}action: also_shown \| result: fail\n$/);
  assert.match(lines[2]!, / DEBUG {4}action: now_shown \| result: success\n$/);
});
