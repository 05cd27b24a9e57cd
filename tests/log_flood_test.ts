/**
 * A flood of connections that say hello and fail their proof costs the
 * central's log a bounded number of lines, not one or two per connection:
 * the course's lines for the first connections of a window, then counts.
 * So does a flood of echo probes, whose lines are bounded and escaped too.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Central, field, harnessKey, tempDir } from "./harness.ts";
import { encodeMessage } from "../protocol/messages.ts";
import { helloFor, helloOf, RawPeer } from "./raw_peer.ts";

/** Connections of the flood, and how many at once. */
const ATTEMPTS = 2_000;
const AT_ONCE = 50;

Deno.test(`a flood of ${ATTEMPTS} hello + bad proof attempts writes a bounded log, every attempt counted`, async () => {
  await using dir = await tempDir("tp0-log-flood-");
  await using central = new Central(join(dir.path, "storage"), {
    SERVER_LISTEN_BACKLOG: "128",
  });
  const port = await central.ready();
  const before = central.stdout.all.length;
  const wrongKey = harnessKey(
    1,
    "a secret that is not the central's, 32+ chars",
  );
  let refused = 0;
  for (let done = 0; done < ATTEMPTS; done += AT_ONCE) {
    await Promise.all(
      Array.from({ length: AT_ONCE }, async () => {
        using peer = await RawPeer.connect(port);
        await assert.rejects(
          peer.open(helloOf(1), wrongKey),
          /unauthenticated: Cannot serve agency 1: the proof does not hold/,
        );
        refused++;
      }),
    );
  }
  assert.equal(refused, ATTEMPTS);
  // The summaries of the last window are written at the latest on exit.
  central.kill("SIGTERM");
  assert.equal(await central.exit(30_000), 0);
  const lines = central.stdout.all.slice(before);
  assert.ok(
    lines.length < 400,
    `${lines.length} lines for ${ATTEMPTS} attempts`,
  );

  // Every connection is in a course line or in a summary's count.
  const accepted =
    lines.filter((l) =>
      /action: accept_connections \| result: success \| ip: /.test(l)
    ).length;
  const unlogged = lines.filter((l) =>
    /action: accept_connections \| result: success \| unlogged: /.test(l)
  ).reduce((sum, l) => sum + Number(field(l, "unlogged")), 0);
  assert.equal(accepted + unlogged, ATTEMPTS);
  assert.ok(accepted > 0, "the course's lines for the first connections");
  const failed =
    lines.filter((l) => /action: autenticacion \| result: fail/.test(l)).length;
  const suppressed = lines.filter((l) => /action: failed_attempts/.test(l))
    .reduce((sum, l) => sum + Number(field(l, "suppressed")), 0);
  assert.equal(failed + suppressed, ATTEMPTS);
});

/** Conflicting hellos of a peer that holds agency 1's key. */
const CONFLICTS = 200;

Deno.test(`a peer with a key sending ${CONFLICTS} conflicting hellos writes a bounded log, every refusal counted`, async () => {
  await using dir = await tempDir("tp0-log-flood-");
  await using central = new Central(join(dir.path, "storage"), {
    AGENCIES: "2",
  });
  const port = await central.ready();
  const key = harnessKey(1);
  {
    // Agency 1's stream: empty, finished.
    using peer = await RawPeer.connect(port);
    assert.equal(await peer.open(helloFor(1, ""), key), 0);
    await peer.send(encodeMessage({ kind: "finish", agency: 1, total: 0 }));
    assert.equal((await peer.next())?.kind, "ack");
  }
  const before = central.stdout.all.length;
  for (let done = 0; done < CONFLICTS; done += AT_ONCE) {
    await Promise.all(
      Array.from({ length: AT_ONCE }, async () => {
        using peer = await RawPeer.connect(port);
        await assert.rejects(peer.open(helloOf(1, 5, 9), key), /conflict/);
      }),
    );
  }
  central.kill("SIGTERM");
  assert.equal(await central.exit(30_000), 0);
  const fails = central.stdout.all.slice(before).filter((l) =>
    /action: apertura \| result: fail/.test(l)
  );
  assert.ok(fails.length < 20, `${fails.length} lines for ${CONFLICTS}`);
  const counted = fails.reduce(
    // A held-back line is written last with how many were held back.
    (sum, l) => sum + Number(/repeated: (\d+)/.exec(l)?.[1] ?? 1),
    0,
  );
  assert.equal(counted, CONFLICTS);
});

/** Echo probes of the flood (more than two workers' budgets of 200). */
const PROBES = 1_000;

/** Sends `line` as an echo probe and reads the echo to the close. */
async function probe(port: number, line: Uint8Array): Promise<number> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(line);
  let n = 0;
  const buffer = new Uint8Array(16_384);
  for (;;) {
    const read = await conn.read(buffer);
    if (read === null) return n;
    n += read;
  }
}

Deno.test(`a flood of ${PROBES} echo probes writes a bounded log of one-line, bounded records`, async () => {
  await using dir = await tempDir("tp0-echo-flood-");
  await using central = new Central(join(dir.path, "storage"), {
    SERVER_LISTEN_BACKLOG: "128",
  });
  const port = await central.ready();
  const before = central.stdout.all.length;
  // A long line with a forged record and terminal escapes in it.
  const forged = "x\r2024-08-21 22:11:05 INFO     action: sorteo\x1b[2K\x07";
  const long = new TextEncoder().encode(`${forged}${"a".repeat(8_000)}\n`);
  assert.equal(await probe(port, long), long.length);
  const short = new TextEncoder().encode("ping\n");
  for (let done = 1; done < PROBES; done += AT_ONCE) {
    await Promise.all(
      Array.from({ length: Math.min(AT_ONCE, PROBES - done) }, async () => {
        assert.equal(await probe(port, short), short.length);
      }),
    );
  }
  central.kill("SIGTERM");
  assert.equal(await central.exit(30_000), 0);
  const lines = central.stdout.all.slice(before);
  const echoed = lines.filter((l) =>
    /action: receive_message \| result: success \| ip: /.test(l)
  );
  assert.ok(echoed.length <= 2 * 200, `${echoed.length} echo lines`);
  const unlogged = lines.filter((l) =>
    /action: receive_message \| result: success \| unlogged: /.test(l)
  ).reduce((sum, l) => sum + Number(field(l, "unlogged")), 0);
  assert.equal(echoed.length + unlogged, PROBES);
  // The long line is quoted up to a bound, escaped, on one line.
  const first = echoed.find((l) => l.includes("sorteo"));
  assert.ok(first !== undefined, "the first probe's line");
  assert.match(
    first,
    new RegExp(
      `msg: x\\\\r2024-08-21 .*sorteo\\\\x1b\\[2K\\\\x07a+…\\(${long.length} bytes\\)$`,
    ),
  );
  assert.ok(first.length < 400, `${first.length} characters`);
  // deno-lint-ignore no-control-regex
  assert.ok(lines.every((l) => !/[\x00-\x1f]/.test(l)), "no raw control bytes");
});
