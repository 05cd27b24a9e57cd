/**
 * Tests of the one-shot timer.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Timer } from "./timer.ts";

Deno.test("a timer fires once, no earlier than asked", async () => {
  const started = performance.now();
  const firedAt: number[] = [];
  const timer = new Timer(20, () => firedAt.push(performance.now() - started));
  assert.equal(timer.pending, true);
  await new Promise<void>((resolve) => new Timer(60, resolve));
  assert.equal(firedAt.length, 1);
  assert.ok(firedAt[0]! >= 19, `fired after ${firedAt[0]} ms`);
  assert.equal(timer.pending, false);
});

Deno.test("a cancelled timer never fires; cancelling twice is harmless", async () => {
  let fired = 0;
  const timer = new Timer(10, () => fired++);
  timer.cancel();
  timer.cancel();
  assert.equal(timer.pending, false);
  {
    using _disposed = new Timer(10, () => fired++);
  }
  await new Promise<void>((resolve) => new Timer(50, resolve));
  assert.equal(fired, 0);
});

Deno.test("fractional and negative delays are whole milliseconds", async () => {
  const order: string[] = [];
  new Timer(-5, () => order.push("negative"));
  new Timer(0.2, () => order.push("fraction"));
  await new Promise<void>((resolve) => new Timer(30, resolve));
  assert.deepEqual(order.sort(), ["fraction", "negative"]);
});
