/**
 * The port's lockfile lives where no other user can write: a symlink or a
 * file planted at the old shared path in the temporary directory is
 * ignored (never followed, never truncated), a runtime directory that is
 * a symlink or writable by others is refused, and the lockfile is removed
 * when the central exits.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Central, tempDir } from "./harness.ts";

/** A port free right now, for a central started with `--port`. */
function freePort(): number {
  using probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return probe.addr.port;
}

Deno.test("a planted symlink is never followed; the lock is private and removed on exit", async () => {
  await using tmp = await tempDir("tp0-port-lock-");
  const uid = (await Deno.lstat(tmp.path)).uid;
  const port = freePort();
  // What another user of the machine could plant in a shared /tmp.
  const victim = join(tmp.path, "victim");
  await Deno.writeTextFile(victim, "precious\n", { mode: 0o600 });
  await Deno.symlink(victim, join(tmp.path, `tp0-central-${port}.lock`));
  await Deno.writeTextFile(join(tmp.path, "held.lock"), "");

  const env = { TMPDIR: tmp.path, XDG_RUNTIME_DIR: "" };
  await using central = new Central(join(tmp.path, "storage"), env, [
    "--port",
    String(port),
  ]);
  assert.equal(await central.ready(), port);
  assert.equal(await Deno.readTextFile(victim), "precious\n");
  const dir = join(tmp.path, `tp0-central-${uid}`);
  const info = await Deno.lstat(dir);
  assert.ok(info.isDirectory && !info.isSymlink);
  assert.equal(info.mode! & 0o777, 0o700);
  const lock = join(dir, `central-${port}.lock`);
  assert.equal(
    await Deno.readTextFile(lock),
    `${central.child.pid}\n`,
  );
  central.kill("SIGTERM");
  assert.equal(await central.exit(30_000), 0);
  await assert.rejects(Deno.lstat(lock), Deno.errors.NotFound);
  assert.equal(await Deno.readTextFile(victim), "precious\n");
});

Deno.test("a runtime directory that is a symlink or open to other users is refused", async () => {
  await using tmp = await tempDir("tp0-port-lock-");
  const uid = (await Deno.lstat(tmp.path)).uid;
  const start = async (why: RegExp) => {
    await using central = new Central(join(tmp.path, "storage"), {
      TMPDIR: tmp.path,
      XDG_RUNTIME_DIR: "",
    });
    assert.equal(await central.exit(30_000), 1);
    const fail = central.stdout.matching(/action: central \| result: fail/);
    assert.equal(fail.length, 1, central.stdout.all.join("\n"));
    assert.match(fail[0]!, why);
    assert.deepEqual(central.stdout.matching(/worker_started/), []);
  };
  const dir = join(tmp.path, `tp0-central-${uid}`);
  const elsewhere = join(tmp.path, "elsewhere");
  await Deno.mkdir(elsewhere, { mode: 0o700 });
  await Deno.symlink(elsewhere, dir);
  await start(/Cannot start: the runtime directory .* is a symlink; remove it/);
  await Deno.remove(dir);
  await Deno.mkdir(dir);
  await Deno.chmod(dir, 0o777);
  await start(/is writable by other users \(mode 777\)/);
  assert.deepEqual(
    [...Deno.readDirSync(elsewhere)],
    [],
    "nothing written through the symlink",
  );
});

Deno.test("another user's directory at the shared path in /tmp does not stop the central", async () => {
  await using tmp = await tempDir("tp0-port-lock-");
  const uid = (await Deno.lstat(tmp.path)).uid;
  assert.equal(uid, 0, "this test needs root, to act as user nobody");
  // What user nobody can make first in the shared /tmp; one of ours that
  // is there already is put back afterwards.
  const shared = "/tmp/tp0-central-0";
  const aside = join(tmp.path, "aside");
  const ours = await Deno.lstat(shared).then(() => true, () => false);
  const tmpdir = Deno.env.get("TMPDIR");
  if (ours) await Deno.rename(shared, aside);
  try {
    await Deno.mkdir(shared, { mode: 0o700 });
    await Deno.chown(shared, 65534, 65534);
    // Neither XDG_RUNTIME_DIR nor TMPDIR: the default place is looked for.
    Deno.env.delete("TMPDIR");
    await using central = new Central(join(tmp.path, "storage"), {
      XDG_RUNTIME_DIR: "",
    }, ["--port", String(freePort())]);
    await central.ready();
    assert.deepEqual([...Deno.readDirSync(shared)], []);
    central.kill("SIGTERM");
    assert.equal(await central.exit(30_000), 0);
  } finally {
    if (tmpdir !== undefined) Deno.env.set("TMPDIR", tmpdir);
    await Deno.remove(shared, { recursive: true });
    if (ours) await Deno.rename(aside, shared);
  }
});

Deno.test("a user whose home is root's (HOME=/) gets the runtime directory in /tmp", async () => {
  await using tmp = await tempDir("tp0-port-lock-");
  await Deno.chown(tmp.path, 65534, 65534);
  const module = new URL("../server/store/runtime_dir.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command("runuser", {
    args: [
      "-u",
      "nobody",
      "--",
      "env",
      "HOME=/",
      `DENO_DIR=${join(tmp.path, "cache")}`,
      Deno.execPath(),
      "eval",
      "--no-config",
      `import { runtimeDir } from "${module.href}";` +
      `console.log(runtimeDir({ HOME: "/" }));`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(code, 0, decoder.decode(stderr));
  assert.equal(decoder.decode(stdout).trim(), "/tmp/tp0-central-65534");
});

Deno.test("a TMPDIR other users can write is passed over: their directory there does not stop the central", async () => {
  await using tmp = await tempDir("tp0-port-lock-");
  const uid = (await Deno.lstat(tmp.path)).uid;
  assert.equal(uid, 0, "this test needs root, to act as user nobody");
  const shared = join(tmp.path, "shared");
  await Deno.mkdir(shared);
  await Deno.chmod(shared, 0o1777);
  const theirs = join(shared, `tp0-central-${uid}`);
  await Deno.mkdir(theirs);
  await Deno.chmod(theirs, 0o777);
  await Deno.chown(theirs, 65534, 65534);
  await using central = new Central(join(tmp.path, "storage"), {
    TMPDIR: shared,
    XDG_RUNTIME_DIR: "",
  }, ["--port", String(freePort())]);
  await central.ready();
  assert.deepEqual([...Deno.readDirSync(theirs)], []);
  central.kill("SIGTERM");
  assert.equal(await central.exit(30_000), 0);
});

Deno.test("another user removing the central's probe files in a TMPDIR they can write does not stop it", async () => {
  await using tmp = await tempDir("tp0-port-lock-");
  const uid = (await Deno.lstat(tmp.path)).uid;
  assert.equal(uid, 0, "this test needs root, to act as user nobody");
  const open = join(tmp.path, "open");
  await Deno.mkdir(open);
  await Deno.chmod(open, 0o777);
  await Deno.chmod(tmp.path, 0o755);
  // User nobody removes every file the central makes there, for at most
  // 60 s or until told to stop (a file of ours in the directory).
  const stop = join(open, "stop");
  const remover = new Deno.Command("runuser", {
    args: [
      "-u",
      "nobody",
      "--",
      "python3",
      "-c",
      `import os, time
d = ${JSON.stringify(open)}
open(os.path.join(d, "ready"), "w").close()
end = time.time() + 60
while time.time() < end and not os.path.exists(${JSON.stringify(stop)}):
    for name in os.listdir(d):
        if name.startswith("tp0-"):
            path = os.path.join(d, name)
            try:
                os.rmdir(path) if os.path.isdir(path) else os.remove(path)
            except OSError:
                pass
`,
    ],
  }).spawn();
  try {
    const deadline = Date.now() + 10_000;
    while (
      !await Deno.lstat(join(open, "ready")).then(() => true, () => false)
    ) {
      assert.ok(Date.now() < deadline, "the remover runs");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const run of [1, 2, 3, 4, 5]) {
      await using central = new Central(join(tmp.path, `storage-${run}`), {
        TMPDIR: open,
        XDG_RUNTIME_DIR: "",
      }, ["--port", String(freePort())]);
      await central.ready();
      central.kill("SIGTERM");
      assert.equal(await central.exit(30_000), 0);
    }
  } finally {
    await Deno.writeTextFile(stop, "");
    await remover.status;
  }
});
