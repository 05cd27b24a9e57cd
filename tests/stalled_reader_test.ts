/**
 * A peer that stops reading its replies holds its connection no longer
 * than the idle timeout: the write that makes no progress closes it, with
 * one line, and the worker serves the next agency.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeMessage } from "../protocol/messages.ts";
import { ProtocolError } from "../protocol/protocol_error.ts";
import { Central, harnessKey, tempDir } from "./harness.ts";
import { helloFor, RawPeer } from "./raw_peer.ts";

/** Winning bets of agency 1: every winners reply is tens of kB. */
const TOTAL = 3000;
const PER_BATCH = 100;
const QUERIES = 600;
const IDLE_MS = 1000;

function concat(frames: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const frame of frames) {
    bytes.set(frame, at);
    at += frame.length;
  }
  return bytes;
}

Deno.test("a peer that stops reading is closed after the idle timeout", async () => {
  await using dir = await tempDir("tp0-stalled-");
  await using central = new Central(join(dir.path, "storage"), {
    AGENCIES: "1",
    WORKERS: "1",
    IDLE_TIMEOUT: `${IDLE_MS}ms`,
  });
  const port = await central.ready();
  const encoder = new TextEncoder();
  let stream = "";
  const frames: Uint8Array[] = [];
  for (let first = 0; first < TOTAL; first += PER_BATCH) {
    let rows = "";
    for (let i = first; i < first + PER_BATCH; i++) {
      rows += `1,Ana,Díaz,${30_000_000 + i},1999-03-17,7574\n`;
    }
    stream += rows;
    frames.push(encodeMessage({
      kind: "batch",
      agency: 1,
      first,
      count: PER_BATCH,
      rows: encoder.encode(rows),
    }));
  }
  frames.push(encodeMessage({ kind: "finish", agency: 1, total: TOTAL }));
  const hello = helloFor(1, stream);
  {
    using peer = await RawPeer.connect(port);
    await peer.open(hello, harnessKey(1));
    assert.ok(await peer.send(concat(frames)));
    for (let k = 0; k < frames.length; k++) {
      assert.equal((await peer.next())?.kind, "ack");
    }
  }
  await central.stdout.waitFor(/action: sorteo \| result: success/, 15_000);

  // Many winners queries in one write, and then nothing read.
  const stalled = await RawPeer.connect(port);
  try {
    await stalled.open(hello, harnessKey(1));
    const query = encodeMessage({ kind: "winnersQuery", agency: 1 });
    assert.ok(
      await stalled.send(concat(Array.from({ length: QUERIES }, () => query))),
    );
    const line = await central.stdout.waitFor(
      /action: connection_stalled \| result: fail/,
      10 * IDLE_MS + 10_000,
    );
    assert.match(line, /not reading/);
    // What was written before the close can be read (its last frame may
    // be cut short); then the close.
    let answered = 0;
    try {
      for (let m; (m = await stalled.next(5_000)) !== null;) {
        if (m.kind === "winners" && m.last) answered++;
      }
    } catch (error) {
      assert.ok(error instanceof ProtocolError, String(error));
    }
    assert.ok(answered < QUERIES, `${answered} of ${QUERIES} answered`);
  } finally {
    stalled.close();
  }

  // The worker serves the next agency.
  {
    using peer = await RawPeer.connect(port);
    assert.equal(await peer.open(hello, harnessKey(1)), TOTAL);
  }
  assert.equal(central.stdout.matching(/connection_stalled/).length, 1);
  central.kill("SIGTERM");
  assert.equal(await central.exit(30_000), 0);
});
