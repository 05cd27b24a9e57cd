/**
 * Tests of the batch builder.
 *
 * @module
 */
import assert from "node:assert/strict";
import { BatchBuilder } from "./batch_builder.ts";
import { MAX_FRAME_SIZE } from "./frame.ts";
import { encodeMessage } from "./messages.ts";

const encoder = new TextEncoder();
const line = (i: number, name = "Camila Rocío") =>
  encoder.encode(`${name},Varela,${30_000_000 + i},1995-05-09,${i}`);
const add = (builder: BatchBuilder, bytes: Uint8Array) =>
  builder.tryAdd(bytes, 0, bytes.length);
const rows = (agency: number, lines: Uint8Array[]) =>
  encoder.encode(
    lines.map((l) => `${agency},${new TextDecoder().decode(l)}\n`).join(""),
  );

Deno.test("a built batch is byte-identical to the encoded message", () => {
  const builder = new BatchBuilder(4, 10);
  const lines = [line(1), line(2), line(3)];
  for (const l of lines) assert.ok(add(builder, l));
  assert.deepEqual(
    builder.take(7),
    encodeMessage({
      kind: "batch",
      agency: 4,
      first: 7,
      count: 3,
      rows: rows(4, lines),
    }),
  );
  assert.equal(builder.count, 0);
});

Deno.test("a line is taken from the middle of a larger buffer", () => {
  const builder = new BatchBuilder(1, 10);
  const buffer = encoder.encode("xxA,B,1,2000-01-01,2yy");
  assert.ok(builder.tryAdd(buffer, 2, buffer.length - 2));
  assert.deepEqual(
    builder.take(0),
    encodeMessage({
      kind: "batch",
      agency: 1,
      first: 0,
      count: 1,
      rows: encoder.encode("1,A,B,1,2000-01-01,2\n"),
    }),
  );
});

Deno.test("maxAmount closes a batch", () => {
  const builder = new BatchBuilder(1, 2);
  assert.ok(add(builder, line(1)));
  assert.ok(add(builder, line(2)));
  assert.equal(add(builder, line(3)), false);
  assert.equal(builder.count, 2);
});

Deno.test("long names cut a batch early, under the frame limit", () => {
  const builder = new BatchBuilder(1, 1000);
  const long = "Á".repeat(500);
  let n = 0;
  while (add(builder, line(n, long))) n++;
  const frame = builder.take(1);
  assert.ok(n > 0 && n < 1000);
  assert.ok(frame.length <= MAX_FRAME_SIZE);
  assert.ok(frame.length + 2 + line(n, long).length + 1 > MAX_FRAME_SIZE);
  assert.deepEqual(
    frame,
    encodeMessage({
      kind: "batch",
      agency: 1,
      first: 1,
      count: n,
      rows: rows(1, Array.from({ length: n }, (_, i) => line(i, long))),
    }),
  );
});

Deno.test("a bet too large for any frame is a RangeError", () => {
  const builder = new BatchBuilder(1, 10);
  assert.throws(
    () => add(builder, line(1, "x".repeat(MAX_FRAME_SIZE))),
    RangeError,
  );
  assert.throws(() => new BatchBuilder(1, 0), RangeError);
});
