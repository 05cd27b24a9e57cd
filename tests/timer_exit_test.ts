/**
 * The timer keeps a process alive only while it is pending.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "../scripts/processes.ts";

/**
 * Runs `body` in a fresh Deno with `Timer` imported; returns its output and
 * how long it lived, in ms. The runtime's timer queue is the thing under
 * test, so it has to be a process of its own.
 */
async function runWithTimer(
  body: string,
): Promise<{ stdout: string; ms: number }> {
  const url = new URL(`file://${join(ROOT, "lib", "timer.ts")}`).href;
  const started = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { Timer } from "${url}";\n${body}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return { stdout: new TextDecoder().decode(output.stdout), ms };
}

Deno.test("a pending timer keeps the process alive until it fires", async () => {
  const { stdout, ms } = await runWithTimer(
    `new Timer(300, () => console.log("fired"));`,
  );
  assert.equal(stdout, "fired\n");
  assert.ok(ms >= 300, `exited after ${ms} ms`);
});

Deno.test("a cancelled timer does not keep the process alive", async () => {
  // Cancelled, a 60 s timer must not hold the process (the agency disarms
  // its 60 s response deadline and exits right after).
  const { stdout, ms } = await runWithTimer(
    `new Timer(60_000, () => console.log("fired")).cancel();
     console.log("done");`,
  );
  assert.equal(stdout, "done\n");
  assert.ok(ms < 30_000, `exited after ${ms} ms`);
});
