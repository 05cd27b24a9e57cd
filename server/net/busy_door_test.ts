/**
 * Tests of the busy door: held peers are turned away on a shortage of
 * descriptors, and no more than half as many are held after it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { BufferedReader } from "../../protocol/buffered_reader.ts";
import { readFrame } from "../../protocol/frame.ts";
import { decodeMessage, isKnownMessageType } from "../../protocol/messages.ts";
import { BusyDoor, RETRY_AFTER_MS } from "./busy_door.ts";

const quiet = { debug() {}, info() {}, warning() {}, error() {} };

/** A connected pair on 127.0.0.1: our accepted end and the peer's. */
async function pair(listener: Deno.TcpListener) {
  const peer = Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  const ours = await listener.accept();
  return { ours, peer: await peer };
}

/** The peer's one frame, then the close. */
async function answer(peer: Deno.Conn) {
  const frame = await readFrame(new BufferedReader(peer), {
    isKnownType: isKnownMessageType,
  });
  assert.ok(frame !== null, "an answer before the close");
  return decodeMessage(frame);
}

Deno.test("held peers are turned away on a shortage of descriptors; then half as many are held", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  using door = new BusyDoor(quiet, 5_000, { holdMs: 600_000, maxHeld: 3 });
  const first = await pair(listener);
  const second = await pair(listener);
  using _a = first.peer;
  using _b = second.peer;
  door.refuse(first.ours, "full", true);
  door.refuse(second.ours, "full", true);
  door.shed();
  for (const peer of [first.peer, second.peer]) {
    assert.deepEqual(await answer(peer), {
      kind: "error",
      code: "busy",
      message:
        "Cannot accept connection: the central is short of file descriptors; try again later",
      retryAfterMs: RETRY_AFTER_MS,
    });
  }
  // Two were held: one may be now, so the next is held, and the one after
  // it told at once.
  const third = await pair(listener);
  const fourth = await pair(listener);
  using _c = third.peer;
  using _d = fourth.peer;
  door.refuse(third.ours, "full", true);
  door.refuse(fourth.ours, "full", true);
  const told = await answer(fourth.peer);
  assert.ok(told.kind === "error" && told.code === "busy");
  // The held one is closed with the door, without an answer.
  door[Symbol.dispose]();
  assert.equal(await third.peer.read(new Uint8Array(8)), null);
});

Deno.test("a peer refused for want of agencies' places is told at once", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  using door = new BusyDoor(quiet, 5_000, { holdMs: 600_000, maxHeld: 3 });
  const { ours, peer } = await pair(listener);
  using _peer = peer;
  door.refuse(ours, "1 agencies are connected, the limit is 1", false);
  const told = await answer(peer);
  assert.ok(told.kind === "error" && told.code === "busy");
});
