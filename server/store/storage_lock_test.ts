/**
 * Tests of the storage lock: its file lock, seen by another process
 * (`flock -n`), is held exactly while a caller runs, and callers of one
 * worker take turns.
 *
 * @module
 */
import assert from "node:assert/strict";
import { StorageLock } from "./storage_lock.ts";
import { withTempPath } from "./temp_path_fixture.ts";

/** Whether another process could take the file lock at `path` right now. */
async function freeForOthers(path: string): Promise<boolean> {
  const { code } = await new Deno.Command("flock", {
    args: ["--nonblock", "--exclusive", path, "true"],
  }).output();
  return code === 0;
}

Deno.test("the file lock is held while a caller runs and released after it, even when it throws", async () => {
  await withTempPath("central.lock", async (path) => {
    using lock = StorageLock.open(path);
    assert.equal(await freeForOthers(path), true);
    assert.equal(await lock.run(() => freeForOthers(path)), false);
    assert.equal(await freeForOthers(path), true);
    await assert.rejects(
      lock.run(() => {
        throw new Error("a caller's failure");
      }),
      /a caller's failure/,
    );
    assert.equal(await freeForOthers(path), true);
  });
});

Deno.test("callers of one worker run one at a time, in order", async () => {
  await withTempPath("central.lock", async (path) => {
    using lock = StorageLock.open(path);
    const order: string[] = [];
    // The first caller holds the lock across a whole process's run, time
    // enough for a second caller that did not wait its turn to come in.
    const first = lock.run(async () => {
      order.push("first in");
      order.push(`others free: ${await freeForOthers(path)}`);
      order.push("first out");
    });
    const second = lock.run(() => void order.push("second"));
    await Promise.all([first, second]);
    assert.deepEqual(order, [
      "first in",
      "others free: false",
      "first out",
      "second",
    ]);
  });
});

Deno.test("a closed lock refuses callers; closing twice is harmless", async () => {
  await withTempPath("central.lock", async (path) => {
    const lock = StorageLock.open(path);
    lock[Symbol.dispose]();
    lock[Symbol.dispose]();
    await assert.rejects(
      lock.run(() => 1),
      /Cannot take the storage lock: the lockfile is closed/,
    );
  });
});
