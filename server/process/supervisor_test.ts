/**
 * Tests of the supervisor, with fake workers.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ActionLog, Fields, Result } from "../../lib/log.ts";
import { Supervisor, type WorkerHandle } from "./supervisor.ts";

/** A worker that is ready at once and exits with `code` when told to. */
function fakeWorker(pid: number): WorkerHandle & { crash(): void } {
  let exit!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  return {
    pid,
    ready: Promise.resolve(),
    exited,
    kill: () => exit(143),
    crash: () => exit(1),
  };
}

Deno.test("stop wakes every slot waiting to restart a crashed worker", async () => {
  const lines: string[] = [];
  const at = (action: string, _result: Result, _fields?: Fields) =>
    lines.push(action);
  const log: ActionLog = { debug: at, info: at, warning: at, error: at };
  const workers: ReturnType<typeof fakeWorker>[] = [];
  const supervisor = new Supervisor(
    3,
    (index) => {
      const worker = fakeWorker(index);
      workers.push(worker);
      return worker;
    },
    log,
    { restartDelayMs: 60_000 },
  );
  await supervisor.start();
  for (const worker of workers) worker.crash();
  const deadline = Date.now() + 5_000;
  while (lines.filter((l) => l === "worker_exited").length < 3) {
    assert.ok(Date.now() < deadline, "every worker's exit was seen");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const started = performance.now();
  await supervisor.stop();
  assert.ok(performance.now() - started < 1_000, "no slot waited its pause");
  assert.equal(workers.length, 3, "no worker restarted after stop");
});
