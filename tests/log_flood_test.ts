/**
 * A flood of connections that say hello and fail their proof costs the
 * central's log a bounded number of lines, not one or two per connection:
 * the course's lines for the first connections of a window, then counts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Central, field, harnessKey, tempDir } from "./harness.ts";
import { helloOf, RawPeer } from "./raw_peer.ts";

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
