/**
 * A second central is refused, and the first one keeps serving: on the
 * same port (whatever its storage directory: the workers' SO_REUSEPORT
 * would let it join), on a port another program serves, and on the same
 * storage directory with another port. Two centrals started at the same
 * moment on one port: exactly one of them starts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { alive, Central, tempDir } from "./harness.ts";

/** Starts a central that must refuse: a fail line matching `reason`, a non-zero exit, no worker. */
async function refused(
  storage: string,
  args: string[],
  reason: RegExp,
): Promise<void> {
  await using second = new Central(storage, {}, args);
  const code = await second.exit(20_000);
  const fail = second.stdout.matching(/action: central \| result: fail/);
  assert.notEqual(code, 0, second.stdout.all.join("\n"));
  assert.equal(fail.length, 1, second.stdout.all.join("\n"));
  assert.match(fail[0]!, reason);
  assert.deepEqual(second.stdout.matching(/worker_started|central_ready/), []);
}

/** An echo probe (no handshake): the line comes back. */
async function echo(port: number): Promise<string> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode("ping\n"));
  const buffer = new Uint8Array(16);
  let text = "";
  while (!text.endsWith("\n")) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return text;
}

Deno.test("a second central on the same port or the same storage directory is refused", async () => {
  await using dir = await tempDir("tp0-second-");
  await using first = new Central(join(dir.path, "a"));
  const port = await first.ready();
  const workers = first.workerPids();

  const portTaken =
    /result: fail \| error: Cannot start: 127\.0\.0\.1:\d+ is already served/;
  const portLocked = new RegExp(
    `result: fail \\| error: Cannot start: port ${port} is in use by another central \\(pid ${first.child.pid};`,
  );
  const dirTaken = new RegExp(
    `Cannot start: the storage directory is in use by another central \\(pid ${first.child.pid};`,
  );
  await refused(join(dir.path, "b"), ["--port", String(port)], portLocked);
  await refused(join(dir.path, "a"), ["--port", String(port)], dirTaken);
  await refused(join(dir.path, "a"), [], dirTaken);
  {
    // Not a central: any program on the port.
    using other = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    await refused(
      join(dir.path, "c"),
      ["--port", String(other.addr.port)],
      portTaken,
    );
  }

  // The first one is unharmed: the same workers, serving.
  assert.ok(workers.every(alive), "the first central's workers still run");
  assert.equal(first.workerPids().length, workers.length);
  for (let i = 0; i < 8; i++) assert.equal(await echo(port), "ping\n");
  assert.deepEqual(first.stdout.matching(/result: fail/), []);
  first.kill("SIGTERM");
  assert.equal(await first.exit(30_000), 0);
});

Deno.test("two centrals started at once on one port: exactly one starts", async () => {
  await using dir = await tempDir("tp0-race-");
  for (let trial = 0; trial < 4; trial++) {
    const port = (() => {
      using probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      return probe.addr.port;
    })();
    const args = ["--port", String(port), "--workers", "2"];
    await using a = new Central(join(dir.path, `a${trial}`), {}, args);
    await using b = new Central(join(dir.path, `b${trial}`), {}, args);
    const outcome = (central: Central) =>
      Promise.race([
        central.ready(30_000).then(() => "ready" as const),
        central.exit(30_000).then((code) => code),
      ]);
    const results = await Promise.all([outcome(a), outcome(b)]);
    const ready = results.filter((r) => r === "ready").length;
    assert.equal(ready, 1, `trial ${trial}: ${results.join(", ")}`);
    const loser = results[0] === "ready" ? b : a;
    const winner = results[0] === "ready" ? a : b;
    const code = results[0] === "ready" ? results[1] : results[0];
    assert.notEqual(code, 0);
    const fail = loser.stdout.matching(/action: central \| result: fail/);
    assert.equal(fail.length, 1, loser.stdout.all.join("\n"));
    assert.match(
      fail[0]!,
      new RegExp(
        `Cannot start: (port ${port} is in use by another central|127\\.0\\.0\\.1:${port} is already served)`,
      ),
    );
    assert.deepEqual(loser.stdout.matching(/central_ready/), []);
    assert.equal(await echo(port), "ping\n");
    winner.kill("SIGTERM");
    assert.equal(await winner.exit(30_000), 0);
  }
});
