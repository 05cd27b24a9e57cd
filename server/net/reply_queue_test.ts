/**
 * Tests of the reply queue on a fake connection: a reply that cannot be
 * encoded and a peer that stops reading each end their connection only,
 * with no unhandled rejection.
 *
 * @module
 */
import assert from "node:assert/strict";
import { decodeMessage } from "../../protocol/messages.ts";
import { HEADER_SIZE } from "../../protocol/frame.ts";
import { ReplyQueue, WriteStalledError } from "./reply_queue.ts";

/** A connection whose writes take at most `accept` bytes, then hang until closed. */
class FakeConn {
  written: Uint8Array[] = [];
  closed = false;
  #accept: number;
  #hung: (() => void)[] = [];

  constructor(accept = Infinity) {
    this.#accept = accept;
  }

  write(p: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new Deno.errors.BadResource());
    if (this.#accept <= 0) {
      return new Promise((_, reject) =>
        this.#hung.push(() => reject(new Deno.errors.Interrupted()))
      );
    }
    const n = Math.min(p.length, this.#accept);
    this.#accept -= n;
    this.written.push(p.slice(0, n));
    return Promise.resolve(n);
  }

  close(): void {
    if (this.closed) throw new Deno.errors.BadResource();
    this.closed = true;
    for (const reject of this.#hung.splice(0)) reject();
  }
}

function queue(conn: FakeConn, writeTimeoutMs = 10_000) {
  const errors: unknown[] = [];
  const replies = new ReplyQueue(
    conn as unknown as Deno.Conn,
    (error) => errors.push(error),
    { writeTimeoutMs },
  );
  return { replies, errors };
}

const ack = (first: number, count = 1) => ({
  kind: "ack" as const,
  first,
  count,
  duplicate: false,
});

Deno.test("a reply that cannot be encoded ends its connection, not the process", async () => {
  const conn = new FakeConn();
  const { replies, errors } = queue(conn);
  replies.push(Promise.resolve({ messages: [ack(0)], close: false }));
  // An ack count past its u16 field: encodeMessage throws RangeError.
  replies.push(Promise.resolve({ messages: [ack(1, 70_000)], close: false }));
  replies.push(Promise.resolve({ messages: [ack(2)], close: false }));
  await replies.idle();
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof RangeError);
  assert.ok(replies.closing);
  assert.equal(replies.size, 0);
  // Only what came before the failure was written.
  const frames = conn.written.map((bytes) =>
    decodeMessage({ type: bytes[0]!, payload: bytes.subarray(HEADER_SIZE) })
  );
  assert.deepEqual(frames, [{
    kind: "ack",
    first: 0,
    count: 1,
    duplicate: false,
  }]);
  replies[Symbol.dispose]();
});

Deno.test("a write that makes no progress for the deadline closes the connection", async () => {
  // The peer takes 20 bytes, then reads nothing more.
  const conn = new FakeConn(20);
  const { replies, errors } = queue(conn, 100);
  const started = performance.now();
  for (let i = 0; i < 10; i++) {
    replies.push(Promise.resolve({ messages: [ack(i)], close: false }));
  }
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(replies.unsentBytes, 10 * 12 - 20);
  await replies.idle();
  assert.ok(performance.now() - started >= 90);
  assert.ok(conn.closed);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof WriteStalledError, String(errors[0]));
  assert.equal(replies.unsentBytes, 0);
  assert.equal(replies.size, 0);
  replies[Symbol.dispose]();
});

Deno.test("a closing reply is the last written; later ones are dropped", async () => {
  const conn = new FakeConn();
  const { replies, errors } = queue(conn);
  replies.push(Promise.resolve({ messages: [ack(0)], close: true }));
  replies.push(Promise.resolve({ messages: [ack(1)], close: false }));
  await replies.idle();
  assert.deepEqual(errors, [null]);
  assert.equal(conn.written.length, 1);
  replies[Symbol.dispose]();
});
