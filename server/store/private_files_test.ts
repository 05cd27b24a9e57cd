/**
 * Tests of the storage directory's privacy: files created anew never
 * follow a link planted at their path.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createPrivateSync, openPrivateSync } from "./private_files.ts";

Deno.test("a temporary is created anew: a planted link is removed, its target untouched", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const victim = join(dir, "victim");
    await Deno.writeTextFile(victim, "precious\n");
    await Deno.chmod(victim, 0o644);
    const path = join(dir, "winners.json.tmp");
    await Deno.symlink(victim, path);
    {
      using file = createPrivateSync(path);
      file.writeSync(new TextEncoder().encode("{}"));
    }
    assert.equal(await Deno.readTextFile(victim), "precious\n");
    assert.equal((await Deno.stat(victim)).mode! & 0o777, 0o644);
    const made = await Deno.lstat(path);
    assert.ok(made.isFile);
    assert.equal(made.mode! & 0o077, 0);
    assert.equal(await Deno.readTextFile(path), "{}");
    // A leftover file is replaced, not appended to.
    createPrivateSync(path).close();
    assert.equal(await Deno.readTextFile(path), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a link at a file's path is refused, never followed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const victim = join(dir, "victim");
    await Deno.writeTextFile(victim, "precious\n");
    await Deno.chmod(victim, 0o644);
    const path = join(dir, "bets.csv");
    await Deno.symlink(victim, path);
    assert.throws(
      () => openPrivateSync(path, { append: true, create: true }),
      /bets\.csv: it is a symlink, never followed/,
    );
    assert.equal((await Deno.stat(victim)).mode! & 0o777, 0o644);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
