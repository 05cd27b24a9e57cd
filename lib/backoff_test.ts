/**
 * Tests of the back-off helper.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Backoff } from "./backoff.ts";

Deno.test("pauses double up to the cap, are counted, and start over after a reset", () => {
  const backoff = new Backoff(100, 500);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => backoff.next()), [
    100,
    200,
    400,
    500,
    500,
  ]);
  assert.equal(backoff.failures, 5);
  backoff.reset();
  assert.equal(backoff.failures, 0);
  assert.equal(backoff.next(), 100);
});

Deno.test("an abort wakes every waiter at once", async () => {
  const stop = new AbortController();
  const started = performance.now();
  const waits = [new Backoff(60_000, 60_000), new Backoff(60_000, 60_000)]
    .map((backoff) => backoff.wait(stop.signal));
  stop.abort();
  await Promise.all(waits);
  assert.ok(performance.now() - started < 1_000);
  // Already aborted: no wait at all.
  await new Backoff(60_000, 60_000).wait(stop.signal);
});

Deno.test("a wait lasts the pause", async () => {
  const started = performance.now();
  await new Backoff(30, 30).wait();
  assert.ok(performance.now() - started >= 29);
});
