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

Deno.test("a symlink at the path is refused, never followed; remove deletes the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const victim = join(dir, "victim");
    await Deno.writeTextFile(victim, "precious\n");
    const path = join(dir, "central-1.lock");
    await Deno.symlink(victim, path);
    assert.throws(
      () => InstanceLock.acquire(path, "port 1", true),
      /central-1\.lock is a symlink; a lockfile is never followed/,
    );
    assert.equal(await Deno.readTextFile(victim), "precious\n");
    await Deno.remove(path);
    {
      using _lock = InstanceLock.acquire(path, "port 1", true);
      assert.equal(await Deno.readTextFile(path), `${Deno.pid}\n`);
    }
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("under umask 000 the lockfile is still 0600", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "central-1.lock");
    const module = new URL("./instance_lock.ts", import.meta.url).href;
    const code = `const { InstanceLock } = await import(${
      JSON.stringify(module)
    }); InstanceLock.acquire(${JSON.stringify(path)}, "port 1");`;
    const { code: status, stderr } = await new Deno.Command("sh", {
      args: ["-c", 'umask 000 && exec "$0" eval "$1"', Deno.execPath(), code],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(status, 0, new TextDecoder().decode(stderr));
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
