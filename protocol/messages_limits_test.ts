/**
 * Tests of the messages' codec at its limits: truncated and oversized
 * frames, unknown and reserved codes, messages too large for a frame, and
 * properties over random messages and random bytes.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { BufferedReader } from "./buffered_reader.ts";
import { HEADER_SIZE, MAX_FRAME_SIZE, readFrame } from "./frame.ts";
import {
  decodeMessage,
  DIGEST_SIZE,
  encodeMessage,
  ErrorCode,
  isKnownMessageType,
  MAC_SIZE,
  type Message,
  MessageType,
  NONCE_SIZE,
  splitWinners,
} from "./messages.ts";
import { ProtocolError } from "./protocol_error.ts";
import { batch, BET, chunkedSource, roundTrip } from "./test_fixtures.ts";

Deno.test("the frame reader tells a clean close from a truncated frame", async () => {
  const frame = encodeMessage({ kind: "totalQuery", agency: 1 });
  const opts = { isKnownType: isKnownMessageType };
  assert.equal(
    await readFrame(new BufferedReader(chunkedSource(new Uint8Array())), opts),
    null,
  );
  for (const cut of [1, HEADER_SIZE - 1, HEADER_SIZE, frame.length - 1]) {
    await assert.rejects(
      readFrame(
        new BufferedReader(chunkedSource(frame.subarray(0, cut))),
        opts,
      ),
      (e) => e instanceof ProtocolError && e.reason === "truncated",
      `cut at ${cut}`,
    );
  }
});

Deno.test("the frame reader refuses an oversized length before reading the payload", async () => {
  const header = new Uint8Array([MessageType.batch, 0xff, 0xff, 0xff, 0xff]);
  let reads = 0;
  const source = chunkedSource(header, 64);
  const counting = {
    read(p: Uint8Array) {
      reads++;
      return source.read(p);
    },
  };
  await assert.rejects(
    readFrame(new BufferedReader(counting), {
      isKnownType: isKnownMessageType,
    }),
    (e) => e instanceof ProtocolError && e.reason === "too_large",
  );
  assert.equal(reads, 1);
  const justFits = new Uint8Array(HEADER_SIZE);
  justFits[0] = MessageType.batch;
  new DataView(justFits.buffer).setUint32(1, MAX_FRAME_SIZE - HEADER_SIZE + 1);
  await assert.rejects(
    readFrame(new BufferedReader(chunkedSource(justFits)), {
      isKnownType: isKnownMessageType,
    }),
    (e) => e instanceof ProtocolError && e.reason === "too_large",
  );
});

Deno.test("unknown type bytes are refused at the header", async () => {
  await assert.rejects(
    readFrame(
      new BufferedReader(chunkedSource(new Uint8Array([0x08, 0, 0, 0, 0]))),
      { isKnownType: isKnownMessageType },
    ),
    (e) => e instanceof ProtocolError && e.reason === "unknown_type",
  );
});

Deno.test("message codes are control bytes other than TAB, LF and CR", () => {
  for (const code of Object.values(MessageType) as number[]) {
    assert.ok(
      code > 0 && code < 0x20 && code !== 9 && code !== 10 && code !== 13,
    );
  }
  assert.equal(
    new Set(Object.values(ErrorCode)).size,
    Object.keys(ErrorCode).length,
  );
});

Deno.test("encoding refuses what does not fit in a frame", () => {
  const big = "x".repeat(MAX_FRAME_SIZE);
  assert.throws(
    () =>
      encodeMessage({
        kind: "bet",
        agency: 1,
        bet: { ...BET, firstName: big },
      }),
    RangeError,
  );
  assert.throws(
    () => encodeMessage({ kind: "winners", last: true, documents: [big] }),
    RangeError,
  );
});

Deno.test("an error reply always fits: its text is cut on a character boundary", () => {
  const decode = (frame: Uint8Array) =>
    decodeMessage({ type: frame[0]!, payload: frame.subarray(HEADER_SIZE) });
  // code u8 + retry after u32 + length u16 + text: exactly the payload
  // limit is kept whole.
  const fits = "é".repeat((MAX_FRAME_SIZE - HEADER_SIZE - 7) / 2) + "x".repeat(
    (MAX_FRAME_SIZE - HEADER_SIZE - 7) % 2,
  );
  const frame = encodeMessage({ kind: "error", code: "busy", message: fits });
  assert.equal(frame.length, MAX_FRAME_SIZE);
  assert.deepEqual(decode(frame), {
    kind: "error",
    code: "busy",
    message: fits,
  });
  // One byte more, or far more in characters of 1 to 4 bytes: cut, with "…".
  for (
    const text of [
      fits + "x",
      "x".repeat(3 * MAX_FRAME_SIZE),
      "é".repeat(MAX_FRAME_SIZE),
      "x" + "€".repeat(MAX_FRAME_SIZE),
      "xy" + "😀".repeat(MAX_FRAME_SIZE),
    ]
  ) {
    const cut = encodeMessage({
      kind: "error",
      code: "invalidBet",
      message: text,
    });
    assert.ok(cut.length <= MAX_FRAME_SIZE && cut.length > MAX_FRAME_SIZE - 4);
    const message = decode(cut);
    assert.ok(message.kind === "error" && message.code === "invalidBet");
    assert.ok(message.message.endsWith("…"), message.message.slice(-5));
    assert.ok(text.startsWith(message.message.slice(0, -1)));
  }
});

Deno.test("winners are split into frames within the limit, the last one flagged", () => {
  const documents = Array.from(
    { length: 3000 },
    (_, i) => String(10_000_000 + i),
  );
  const frames = splitWinners(documents).map(encodeMessage);
  assert.ok(frames.length > 1);
  const decoded = frames.map((payload) =>
    decodeMessage({ type: payload[0]!, payload: payload.subarray(HEADER_SIZE) })
  );
  assert.deepEqual(decoded.map((m) => m.kind === "winners" && m.last), [
    ...Array(frames.length - 1).fill(false),
    true,
  ]);
  assert.deepEqual(
    decoded.flatMap((m) => m.kind === "winners" ? m.documents : []),
    documents,
  );
  for (const frame of frames) assert.ok(frame.length <= MAX_FRAME_SIZE);
  assert.equal(splitWinners([]).length, 1);
});

// Property-based tests.

const u32 = fc.nat({ max: 0xffff_ffff });
const text = fc.string({ unit: "grapheme", maxLength: 12 });
const wireBet = fc.record({
  firstName: text,
  lastName: text,
  document: text,
  birthdate: text,
  number: text,
});
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    kind: fc.constant("bet" as const),
    agency: u32,
    bet: wireBet,
  }),
  fc.tuple(
    u32,
    u32,
    fc.array(text.map((line) => line.replaceAll("\n", "")), { maxLength: 20 }),
  ).map(([agency, first, lines]) => batch(agency, first, lines)),
  fc.record({
    kind: fc.constant("finish" as const),
    agency: u32,
    total: u32,
  }),
  fc.record({ kind: fc.constant("winnersQuery" as const), agency: u32 }),
  fc.record({ kind: fc.constant("totalQuery" as const), agency: u32 }),
  fc.record({
    kind: fc.constant("hello" as const),
    agency: u32,
    total: u32,
    digest: fc.uint8Array({ minLength: DIGEST_SIZE, maxLength: DIGEST_SIZE }),
  }),
  fc.record({
    kind: fc.constant("proof" as const),
    mac: fc.uint8Array({ minLength: MAC_SIZE, maxLength: MAC_SIZE }),
  }),
  fc.record({
    kind: fc.constant("challenge" as const),
    nonce: fc.uint8Array({ minLength: NONCE_SIZE, maxLength: NONCE_SIZE }),
  }),
  fc.record({ kind: fc.constant("welcome" as const), stored: u32 }),
  fc.record({
    kind: fc.constant("ack" as const),
    first: u32,
    count: fc.nat({ max: 0xffff }),
    duplicate: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("winners" as const),
    last: fc.boolean(),
    documents: fc.array(text, { maxLength: 50 }),
  }),
  fc.record({ kind: fc.constant("pending" as const), pendingAgencies: u32 }),
  fc.record({ kind: fc.constant("total" as const), totalWinners: u32 }),
  fc.record({
    kind: fc.constant("error" as const),
    code: fc.constantFrom(
      ...(Object.keys(ErrorCode) as (keyof typeof ErrorCode)[]),
    ),
    message: text,
    retryAfterMs: fc.integer({ min: 1, max: 0xffff_ffff }),
  }, { requiredKeys: ["kind", "code", "message"] }),
);

Deno.test("property: decode(encode(m)) equals m, whatever the read sizes", async () => {
  await fc.assert(
    fc.asyncProperty(
      message,
      fc.integer({ min: 1, max: 64 }),
      async (m, chunk) => {
        assert.deepEqual(await roundTrip(m, chunk), structuredClone(m));
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("property: random and mutated bytes never crash the reader or decoder", async () => {
  const mutated = fc.tuple(
    message,
    fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { maxLength: 8 }),
    fc.nat(),
  )
    .map(([m, flips, cut]) => {
      const bytes = encodeMessage(m).slice();
      for (const [at, value] of flips) bytes[at % bytes.length] = value;
      return bytes.subarray(0, bytes.length - (cut % 4));
    });
  const anyBytes = fc.uint8Array({ maxLength: 300 });
  await fc.assert(
    fc.asyncProperty(fc.oneof(mutated, anyBytes), async (bytes) => {
      const reader = new BufferedReader(chunkedSource(bytes, 7));
      try {
        for (;;) {
          const frame = await readFrame(reader, {
            isKnownType: isKnownMessageType,
          });
          if (frame === null) break;
          assert.ok(frame.payload.length <= MAX_FRAME_SIZE - HEADER_SIZE);
          decodeMessage(frame);
        }
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
      }
    }),
    { numRuns: 2000 },
  );
});
