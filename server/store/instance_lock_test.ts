/**
 * Tests of the storage directory's instance lock.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { InstanceLock, InUseError } from "./instance_lock.ts";

Deno.test("one holder at a time; the next one is refused with the holder's pid", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "central.instance");
    {
      using _first = InstanceLock.acquire(path);
      assert.throws(
        () => InstanceLock.acquire(path),
        (error: unknown) =>
          error instanceof InUseError &&
          error.message.includes(`pid ${Deno.pid}`) &&
          error.message.includes("the storage directory is in use"),
      );
      assert.throws(
        () => InstanceLock.acquire(path, "port 5"),
        /Cannot start: port 5 is in use by another central/,
      );
    }
    using _again = InstanceLock.acquire(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
