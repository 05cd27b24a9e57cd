import assert from "node:assert/strict";
import { Timer } from "./timer.ts";

Deno.test("a timer fires once, no earlier than asked", async () => {
  const started = performance.now();
  let fired = 0;
  const timer = new Timer(20, () => fired++);
  assert.equal(timer.pending, true);
  await new Promise<void>((resolve) => new Timer(60, resolve));
  assert.equal(fired, 1);
  assert.equal(timer.pending, false);
  assert.ok(performance.now() - started >= 19);
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
