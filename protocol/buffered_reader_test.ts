/**
 * Tests of the buffered reader, on byte fixtures.
 *
 * @module
 */
import assert from "node:assert/strict";
import { BufferedReader } from "./buffered_reader.ts";
import { readFrame } from "./frame.ts";
import { encodeMessage, isKnownMessageType } from "./messages.ts";
import { chunkedSource, concat } from "./test_fixtures.ts";

const options = { isKnownType: isKnownMessageType };

/** `count` finish frames back to back: 13 bytes each. */
function finishes(count: number): Uint8Array {
  return concat(
    ...Array.from(
      { length: count },
      (_, i) => encodeMessage({ kind: "finish", agency: 1, total: i }),
    ),
  );
}

/** Reads 1,000 frames through a reader like `make` gives; returns it and its reads. */
async function readAll(
  make: (
    source: { read(p: Uint8Array): Promise<number | null> },
  ) => BufferedReader,
): Promise<{ reader: BufferedReader; reads: number }> {
  let reads = 0;
  const source = chunkedSource(finishes(1000), 1 << 20);
  const reader = make({
    read(p: Uint8Array) {
      reads++;
      return source.read(p);
    },
  });
  for (let i = 0; i < 1000; i++) {
    const frame = await readFrame(reader, options);
    assert.deepEqual(
      frame?.payload,
      encodeMessage({ kind: "finish", agency: 1, total: i }).subarray(5),
    );
  }
  assert.equal(await readFrame(reader, options), null);
  return { reader, reads };
}

Deno.test("a reader grows once past its threshold; the frames read are the same", async () => {
  const fixed = await readAll((source) => new BufferedReader(source, 64));
  const growing = await readAll((source) =>
    new BufferedReader(source, 64, { after: 640, to: 1024 })
  );
  assert.equal(fixed.reader.bufferSize, 64);
  assert.equal(growing.reader.bufferSize, 1024);
  // 13,000 bytes: about 64 at a time, or 1,024 at a time after the first 640.
  assert.ok(fixed.reads > 200, `${fixed.reads} reads at 64 bytes`);
  assert.ok(growing.reads < 50, `${growing.reads} reads once grown`);
});

Deno.test("growing does not change what a reader serves", async () => {
  const line = new TextEncoder().encode("x".repeat(100) + "\n");
  const reader = new BufferedReader(
    chunkedSource(concat(finishes(100), line), 4096),
    64,
    { after: 0, to: 4096 },
  );
  for (let i = 0; i < 100; i++) await readFrame(reader, options);
  assert.equal(reader.bufferSize, 4096);
  await assert.rejects(() => reader.readExact(65), RangeError);
  await assert.rejects(() => reader.readLine(1000), RangeError);
});

Deno.test("a reader with no growth keeps its size", async () => {
  const reader = new BufferedReader(chunkedSource(finishes(100), 4096), 64);
  for (let i = 0; i < 100; i++) await readFrame(reader, options);
  assert.equal(reader.bufferSize, 64);
});
