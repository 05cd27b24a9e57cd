/**
 * The storage directory must be the central's own: one owned by another
 * user, reached through a symlink, or holding one of the central's files
 * as a link or another user's file stops the start with one line, and
 * nothing is written or chmodded through it. The other user is `nobody`,
 * acting through `runuser` (the tests run as root).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Central, tempDir } from "./harness.ts";

const NOBODY = 65534;

/** Runs `args` as the user nobody. */
async function asNobody(...args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("runuser", {
    args: ["-u", "nobody", "--", ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
}

/** Starts a central on `storage` that must refuse; returns its fail line. */
async function refused(storage: string): Promise<string> {
  await using central = new Central(storage, { AGENCIES: "1" });
  assert.equal(await central.exit(), 1);
  assert.deepEqual(central.stdout.matching(/action: central_ready/), []);
  const fails = central.stdout.matching(/result: fail/);
  assert.equal(fails.length, 1, fails.join("\n"));
  return fails[0]!;
}

Deno.test("a storage directory of another user, with a link planted in it, is refused; the link's target is untouched", async () => {
  await using dir = await tempDir("tp0-owner-");
  await Deno.chmod(dir.path, 0o755);
  const victim = join(dir.path, "victim");
  await Deno.writeTextFile(victim, "precious\n");
  await Deno.chmod(victim, 0o644);
  const storage = join(dir.path, "storage");
  await Deno.mkdir(storage);
  await Deno.chown(storage, NOBODY, NOBODY);
  await asNobody("chmod", "0777", storage);
  await asNobody("ln", "-s", victim, join(storage, "winners.json.tmp"));
  const line = await refused(storage);
  assert.match(
    line,
    new RegExp(`storage directory .*storage belongs to user ${NOBODY}, not`),
  );
  assert.equal(await Deno.readTextFile(victim), "precious\n");
  assert.equal((await Deno.stat(victim)).mode! & 0o777, 0o644);
  assert.equal((await Deno.stat(storage)).mode! & 0o777, 0o777);
  assert.deepEqual(
    [...Deno.readDirSync(storage)].map((e) => e.name),
    ["winners.json.tmp"],
  );
});

Deno.test("a storage directory reached through a symlink is refused", async () => {
  await using dir = await tempDir("tp0-owner-");
  const real = join(dir.path, "real");
  await Deno.mkdir(real);
  const storage = join(dir.path, "storage");
  await Deno.symlink(real, storage);
  assert.match(await refused(storage), /storage directory .* is a symlink/);
  assert.deepEqual([...Deno.readDirSync(real)], []);
});

Deno.test("one of the central's files that is a link or another user's is refused", async () => {
  await using dir = await tempDir("tp0-owner-");
  const storage = join(dir.path, "storage");
  await Deno.mkdir(storage);
  const victim = join(dir.path, "victim");
  await Deno.writeTextFile(victim, "precious\n");
  await Deno.chmod(victim, 0o644);
  await Deno.symlink(victim, join(storage, "winners.json.tmp"));
  assert.match(
    await refused(storage),
    /the file .*winners\.json\.tmp is a symlink/,
  );
  assert.equal((await Deno.stat(victim)).mode! & 0o777, 0o644);
  await Deno.remove(join(storage, "winners.json.tmp"));
  await Deno.writeTextFile(join(storage, "bets.csv"), "");
  await Deno.chown(join(storage, "bets.csv"), NOBODY, NOBODY);
  assert.match(
    await refused(storage),
    new RegExp(`the file .*bets\\.csv belongs to user ${NOBODY}, not`),
  );
});

Deno.test("a directory above the storage that another user owns or can write (not sticky) is refused", async () => {
  await using dir = await tempDir("tp0-owner-");
  await Deno.chmod(dir.path, 0o755);
  // nobody's directory in a shared one, the central's storage below it:
  // nobody could rename the storage away and put a link in its place.
  const theirs = join(dir.path, "pub");
  await Deno.mkdir(theirs, { mode: 0o755 });
  await Deno.chown(theirs, NOBODY, NOBODY);
  assert.match(
    await refused(join(theirs, "storage")),
    new RegExp(
      `Cannot start: .*pub, above the storage directory .*, belongs to user ${NOBODY}`,
    ),
  );
  // A directory anyone can write, without the sticky bit.
  const open = join(dir.path, "open");
  await Deno.mkdir(open);
  await Deno.chmod(open, 0o777);
  assert.match(
    await refused(join(open, "storage")),
    /open, above the storage directory .*, is writable by other users and not sticky \(mode 777\)/,
  );
  // With the sticky bit (as /tmp), others cannot move what is not theirs.
  await Deno.chmod(open, 0o1777);
  await using central = new Central(join(open, "storage"), { AGENCIES: "1" });
  await central.ready();
});
