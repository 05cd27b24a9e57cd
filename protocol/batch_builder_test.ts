import assert from "node:assert/strict";
import { BatchBuilder } from "./batch_builder.ts";
import { MAX_FRAME_SIZE } from "./frame.ts";
import { encodeMessage, type WireBet } from "./messages.ts";

const bet = (i: number, name = "Camila Rocío"): WireBet => ({
  firstName: name,
  lastName: "Varela",
  document: String(30_000_000 + i),
  birthdate: "1995-05-09",
  number: String(i),
});

Deno.test("a built batch is byte-identical to the encoded message", () => {
  const builder = new BatchBuilder(4, 10);
  const bets = [bet(1), bet(2), bet(3)];
  for (const b of bets) assert.ok(builder.tryAdd(b));
  assert.deepEqual(
    builder.take(7),
    encodeMessage({ kind: "batch", agency: 4, first: 7, bets }),
  );
  assert.equal(builder.count, 0);
});

Deno.test("maxAmount closes a batch", () => {
  const builder = new BatchBuilder(1, 2);
  assert.ok(builder.tryAdd(bet(1)));
  assert.ok(builder.tryAdd(bet(2)));
  assert.equal(builder.tryAdd(bet(3)), false);
  assert.equal(builder.count, 2);
});

Deno.test("long names cut a batch early, under the frame limit", () => {
  const builder = new BatchBuilder(1, 1000);
  const long = "Á".repeat(500);
  let n = 0;
  while (builder.tryAdd(bet(n, long))) n++;
  const frame = builder.take(1);
  assert.ok(n > 0 && n < 1000);
  assert.ok(frame.length <= MAX_FRAME_SIZE);
  assert.ok(frame.length + 1000 > MAX_FRAME_SIZE);
  assert.deepEqual(
    frame,
    encodeMessage({
      kind: "batch",
      agency: 1,
      first: 1,
      bets: Array.from({ length: n }, (_, i) => bet(i, long)),
    }),
  );
});

Deno.test("a bet too large for any frame is a RangeError", () => {
  const builder = new BatchBuilder(1, 10);
  assert.throws(
    () => builder.tryAdd(bet(1, "x".repeat(MAX_FRAME_SIZE))),
    RangeError,
  );
  assert.throws(() => new BatchBuilder(1, 0), RangeError);
});
