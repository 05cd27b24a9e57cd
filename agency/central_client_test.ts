import assert from "node:assert/strict";
import { createLog } from "../lib/log.ts";
import { BatchBuilder } from "../protocol/batch_builder.ts";
import { BufferedReader } from "../protocol/buffered_reader.ts";
import { readFrame } from "../protocol/frame.ts";
import {
  decodeMessage,
  encodeMessage,
  isKnownMessageType,
} from "../protocol/messages.ts";
import type { BatchFrame } from "./bet_file.ts";
import { CentralClient } from "./central_client.ts";

/** Three one-bet batch frames of agency 1. */
async function* threeBatches(): AsyncGenerator<BatchFrame> {
  const builder = new BatchBuilder(1, 1);
  const line = new TextEncoder().encode("Ana,Díaz,1,1990-01-01,7");
  for (let first = 0; first < 3; first++) {
    builder.tryAdd(line, 0, line.length);
    yield { frame: builder.take(first), first, count: 1 };
  }
}

/** Reads until the peer closes its side. */
async function drain(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(4096);
  try {
    while (await conn.read(buffer) !== null);
  } catch (error) {
    if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
  }
}

/**
 * Acknowledges each batch read from `conn`, at most `limit` of them;
 * returns true when the peer closed, false when the limit was reached.
 */
async function ackBatches(conn: Deno.Conn, limit = Infinity): Promise<boolean> {
  const reader = new BufferedReader(conn);
  for (let acked = 0; acked < limit; acked++) {
    const frame = await readFrame(reader, { isKnownType: isKnownMessageType });
    if (frame === null) return true;
    const message = decodeMessage(frame);
    assert.equal(message.kind, "batch");
    if (message.kind !== "batch") return true;
    await conn.write(encodeMessage({
      kind: "ack",
      first: message.first,
      count: message.count,
      duplicate: false,
    }));
  }
  return false;
}

Deno.test("batches left unanswered past the response timeout go again on a new connection", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const central = (async () => {
    let connections = 0;
    for await (const conn of listener) {
      using _conn = conn;
      connections++;
      // The first connection takes the batches and never answers.
      if (connections === 1) {
        await drain(conn);
        continue;
      }
      if (await ackBatches(conn)) return connections;
    }
    return connections;
  })();

  const acked: number[] = [];
  const started = performance.now();
  {
    using client = new CentralClient(
      "127.0.0.1",
      listener.addr.port,
      createLog("ERROR", () => {}),
      new AbortController().signal,
      { attempts: 3, initialBackoffMs: 10, responseTimeoutMs: 200 },
    );
    await client.sendBatches(threeBatches(), 8, (batch) => {
      acked.push(batch.first);
    });
  }
  assert.deepEqual(acked, [0, 1, 2]);
  assert.ok(performance.now() - started >= 190, "waited for the timeout");
  assert.equal(await central, 2);
});

Deno.test("a connection lost after some acknowledgements starts a new series of attempts at 1", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const central = (async () => {
    let connections = 0;
    for await (const conn of listener) {
      using _conn = conn;
      connections++;
      // The first connection answers one batch, then hangs up.
      if (await ackBatches(conn, connections === 1 ? 1 : Infinity)) {
        return connections;
      }
    }
    return connections;
  })();

  const lines: string[] = [];
  const acked: number[] = [];
  {
    using client = new CentralClient(
      "127.0.0.1",
      listener.addr.port,
      createLog("WARNING", (line) => lines.push(line)),
      new AbortController().signal,
      { attempts: 2, initialBackoffMs: 10 },
    );
    await client.sendBatches(threeBatches(), 8, (batch) => {
      acked.push(batch.first);
    });
  }
  assert.deepEqual(acked, [0, 1, 2]);
  assert.equal(lines.length, 1);
  assert.match(
    lines[0]!,
    /action: reconnect \| result: in_progress \| attempt: 1 \|/,
  );
  assert.equal(await central, 2);
});
