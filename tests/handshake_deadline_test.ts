/**
 * The handshake deadline is a total: a peer that trickles its hello a byte
 * at a time, each read well within the deadline, is still cut when the
 * whole deadline (the idle timeout here, shorter than 5 s) has passed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeMessage } from "../protocol/messages.ts";
import { Central, tempDir } from "./harness.ts";
import { helloOf } from "./raw_peer.ts";

Deno.test("a peer trickling its hello is cut at the handshake deadline, counted from the accept", async () => {
  await using dir = await tempDir("tp0-trickle-");
  await using central = new Central(join(dir.path, "storage"), {
    IDLE_TIMEOUT: "3s",
  });
  const port = await central.ready();
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const hello = encodeMessage({ kind: "hello", ...helloOf(1, 1) });
  const started = Date.now();
  // A byte every 500 ms: no read waits long, the whole hello takes 22 s.
  let closedAt: number | null = null;
  const closed = (async () => {
    const buffer = new Uint8Array(64);
    try {
      while (await conn.read(buffer) !== null) {
        // Nothing is expected before the close.
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
    }
    closedAt = Date.now() - started;
  })();
  for (let i = 0; i < hello.length && closedAt === null; i++) {
    try {
      await conn.write(hello.subarray(i, i + 1));
    } catch (error) {
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await closed;
  assert.ok(
    closedAt !== null && closedAt >= 2_900 && closedAt < 4_200,
    `closed after ${closedAt} ms`,
  );
  await central.stdout.waitFor(
    /action: receive_message \| result: fail \| ip: 127\.0\.0\.1 \| error: Cannot read from peer: no proof of an agency's identity within 3000 ms/,
  );
});
