/**
 * Tests of the course harness's log-line parser.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseCourseLine } from "./course_log.ts";

Deno.test("an action line: source, action, result, details split at their last colon", () => {
  const record = parseCourseLine(
    "client1  | 2024-08-21 22:11:15 INFO     action: receive_message | result: success | client_id: 1 | msg: [CLIENT 1] Message N°1\n",
  );
  assert.deepEqual(record, {
    source: "client1",
    action: "receive_message",
    result: "success",
    details: { client_id: "1", msg: "[CLIENT 1] Message N°1" },
  });
  const error = parseCourseLine(
    "server | x ERROR action: config | result: fail | error: Cannot load configuration: A is missing",
  );
  assert.equal(
    error?.details["error: Cannot load configuration"],
    "A is missing",
  );
});

Deno.test("exit lines, and lines that are neither", () => {
  assert.deepEqual(parseCourseLine("server exited with code 0"), {
    source: "server",
    action: "exit",
    result: "success",
    details: { code: "0" },
  });
  assert.equal(parseCourseLine("client2 exited with code 137")?.result, "fail");
  assert.equal(parseCourseLine("Attaching to server, client1"), null);
});

Deno.test("what the harness would reject throws", () => {
  for (
    const line of [
      "server | action: config | result: ok",
      "server | action: config | result: success | no colon here",
      "server | action: config",
      "server | action: config | result: success | source: x",
      "server exited with code zero",
    ]
  ) {
    assert.throws(() => parseCourseLine(line), SyntaxError, line);
  }
});
