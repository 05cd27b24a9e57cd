/**
 * Tests of the watchdog.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Watchdog } from "./watchdog.ts";

/** Resolves once `check` holds, polling every few ms, within `ms`. */
async function until(check: () => boolean, ms = 2_000): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) {
      throw new Error(`Cannot wait: not true within ${ms} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("a deadline that passes while armed fires once", async () => {
  let fired = 0;
  using watchdog = new Watchdog(() => fired++);
  const started = performance.now();
  watchdog.arm(30);
  await until(() => fired === 1);
  assert.ok(performance.now() - started >= 29);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(fired, 1);
});

Deno.test("re-arming moves the deadline; disarming cancels it", async () => {
  let fired = 0;
  using watchdog = new Watchdog(() => fired++);
  // Re-armed every 10 ms for 150 ms with a 50 ms deadline: never fires.
  const started = performance.now();
  while (performance.now() - started < 150) {
    watchdog.arm(50);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  watchdog.disarm();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(fired, 0);
  // Armed again after lapsing, it fires.
  watchdog.arm(20);
  await until(() => fired === 1);
});

Deno.test("a shorter deadline than the scheduled check is honoured", async () => {
  let fired = 0;
  using watchdog = new Watchdog(() => fired++);
  watchdog.arm(60_000);
  const started = performance.now();
  watchdog.arm(20);
  await until(() => fired === 1);
  assert.ok(performance.now() - started < 1_000);
});

Deno.test("deadlines are read on the injected clock", async () => {
  let now = 0;
  let fired = 0;
  const watchdog = new Watchdog(() => fired++, () => now);
  watchdog.arm(20);
  // Real time passes, the injected clock does not: nothing fires.
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(fired, 0);
  now = 25;
  await until(() => fired === 1);
  watchdog[Symbol.dispose]();
  watchdog[Symbol.dispose]();
});
