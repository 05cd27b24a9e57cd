/**
 * Tests of the messages' encoders and decoders, on byte fixtures.
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
  isOpening,
  isRequest,
  MAC_SIZE,
  type Message,
  MessageType,
  NONCE_SIZE,
  splitWinners,
  type WireBet,
} from "./messages.ts";
import { ProtocolError } from "./protocol_error.ts";
import { chunkedSource, concat } from "./test_fixtures.ts";

const BET: WireBet = {
  firstName: "Santiago Lionel",
  lastName: 'Fornerón, "el Tano"',
  document: "30904465",
  birthdate: "1999-03-17",
  number: "7574",
};

const encoder = new TextEncoder();

/** A batch message of these bet lines (stored rows: the agency first). */
function batch(agency: number, first: number, lines: string[]): Message {
  return {
    kind: "batch",
    agency,
    first,
    count: lines.length,
    rows: encoder.encode(lines.map((line) => `${agency},${line}\n`).join("")),
  };
}

async function roundTrip(message: Message, chunk = 1): Promise<Message> {
  const reader = new BufferedReader(
    chunkedSource(encodeMessage(message), chunk),
  );
  const frame = await readFrame(reader, { isKnownType: isKnownMessageType });
  assert.ok(frame);
  const decoded = decodeMessage(frame);
  assert.equal(
    await readFrame(reader, { isKnownType: isKnownMessageType }),
    null,
  );
  return decoded;
}

const SAMPLES: Message[] = [
  { kind: "bet", agency: 3, bet: BET },
  batch(5, 42, [
    "Santiago Lionel,Lorca,30904465,1999-03-17,7574",
    '"Fornerón, ""el Tano""",Ñandú,1,2000-01-01,0',
  ]),
  batch(1, 7, []),
  { kind: "finish", agency: 2, total: 270 },
  { kind: "winnersQuery", agency: 4 },
  { kind: "totalQuery", agency: 4 },
  {
    kind: "hello",
    agency: 3,
    total: 78_697,
    digest: new Uint8Array(DIGEST_SIZE).fill(0xab),
  },
  { kind: "proof", mac: new Uint8Array(MAC_SIZE).map((_, i) => i) },
  { kind: "challenge", nonce: new Uint8Array(NONCE_SIZE).fill(0xff) },
  { kind: "welcome", stored: 160 },
  { kind: "ack", first: 9, count: 100, duplicate: true },
  { kind: "winners", last: true, documents: ["30904465", "00000000"] },
  { kind: "pending", pendingAgencies: 2 },
  { kind: "total", totalWinners: 10 },
  { kind: "error", code: "invalidBet", message: "Cannot store bet: año" },
  { kind: "error", code: "unauthenticated", message: "no proof" },
  { kind: "error", code: "conflict", message: "another stream" },
];

Deno.test("every message survives encode, one-byte reads and decode", async () => {
  for (const message of SAMPLES) {
    assert.deepEqual(await roundTrip(message), message);
  }
});

Deno.test("a batch frame has the documented byte layout", () => {
  const frame = encodeMessage(batch(1, 2, ["A,Ñ,7,,0"]));
  // deno-fmt-ignore
  assert.deepEqual([...frame], [
    MessageType.batch, 0, 0, 0, 22, // header: type, u32 payload length
    0, 0, 0, 1, 0, 0, 0, 2, 0, 1, // agency u32, first u32, count u16
    49, 44, 65, 44, 0xc3, 0x91, 44, 55, 44, 44, 48, 10, // the rows, LF-terminated
  ]);
});

Deno.test("the opening messages have the documented byte layout", () => {
  const digest = new Uint8Array(DIGEST_SIZE).map((_, i) => 0xa0 + i);
  // deno-fmt-ignore
  assert.deepEqual([...encodeMessage({ kind: "hello", agency: 2, total: 258, digest })], [
    0x06, 0, 0, 0, 40, // header: hello, 40-byte payload
    0, 0, 0, 2, 0, 0, 1, 2, // agency u32, total u32
    ...digest, // 32 bytes
  ]);
  const mac = new Uint8Array(MAC_SIZE).fill(7);
  assert.deepEqual([...encodeMessage({ kind: "proof", mac })], [
    0x07,
    0,
    0,
    0,
    32,
    ...mac,
  ]);
  const nonce = new Uint8Array(NONCE_SIZE).fill(9);
  assert.deepEqual([...encodeMessage({ kind: "challenge", nonce })], [
    0x15,
    0,
    0,
    0,
    32,
    ...nonce,
  ]);
  assert.deepEqual(
    [...encodeMessage({ kind: "welcome", stored: 0x01020304 })],
    [
      0x16,
      0,
      0,
      0,
      4,
      1,
      2,
      3,
      4,
    ],
  );
  assert.deepEqual(
    [...encodeMessage({ kind: "error", code: "unauthenticated", message: "" })],
    [0x1f, 0, 0, 0, 7, 11, 0, 0, 0, 0, 0, 0],
  );
  assert.deepEqual(
    [...encodeMessage({ kind: "error", code: "conflict", message: "" })],
    [0x1f, 0, 0, 0, 7, 12, 0, 0, 0, 0, 0, 0],
  );
  assert.deepEqual(
    [...encodeMessage({
      kind: "error",
      code: "busy",
      message: "",
      retryAfterMs: 500,
    })],
    [0x1f, 0, 0, 0, 7, 7, 0, 0, 0x01, 0xf4, 0, 0],
  );
});

Deno.test("opening messages of any other size are malformed, both ways", () => {
  const sizes = [
    [MessageType.hello, 40],
    [MessageType.proof, 32],
    [MessageType.challenge, 32],
    [MessageType.welcome, 4],
  ] as const;
  for (const [type, size] of sizes) {
    assert.ok(decodeMessage({ type, payload: new Uint8Array(size) }));
    for (const wrong of [0, size - 1, size + 1]) {
      assert.throws(
        () => decodeMessage({ type, payload: new Uint8Array(wrong) }),
        (e) => e instanceof ProtocolError && e.reason === "malformed",
        `type 0x${type.toString(16)} with ${wrong} bytes`,
      );
    }
  }
  // The shortfall is what is missing, not the field's size.
  assert.throws(
    () =>
      decodeMessage({ type: MessageType.proof, payload: new Uint8Array(31) }),
    /Cannot decode proof message: payload ends 1 byte short$/,
  );
  assert.throws(
    () =>
      decodeMessage({ type: MessageType.hello, payload: new Uint8Array(10) }),
    /payload ends 30 bytes short$/,
  );
  for (const n of [0, 31, 33]) {
    const bytes = new Uint8Array(n);
    assert.throws(
      () =>
        encodeMessage({ kind: "hello", agency: 1, total: 1, digest: bytes }),
      RangeError,
    );
    assert.throws(
      () => encodeMessage({ kind: "proof", mac: bytes }),
      RangeError,
    );
    assert.throws(
      () => encodeMessage({ kind: "challenge", nonce: bytes }),
      RangeError,
    );
  }
});

Deno.test("a decoded digest, nonce or MAC is a copy, not a view of the read buffer", () => {
  const payload = new Uint8Array(NONCE_SIZE).fill(5);
  const message = decodeMessage({ type: MessageType.challenge, payload });
  payload.fill(0);
  assert.ok(message.kind === "challenge");
  assert.deepEqual(message.nonce, new Uint8Array(NONCE_SIZE).fill(5));
});

Deno.test("hello and proof open a connection; they are not requests nor responses", () => {
  const kinds = (pick: (m: Message) => boolean) =>
    SAMPLES.filter(pick).map((m) => m.kind);
  assert.deepEqual(kinds(isOpening), ["hello", "proof"]);
  assert.deepEqual([...new Set(kinds(isRequest))], [
    "bet",
    "batch",
    "finish",
    "winnersQuery",
    "totalQuery",
  ]);
});

Deno.test("a batch whose rows do not hold exactly count lines is malformed", () => {
  const payload = (count: number, rows: string) =>
    concat(
      new Uint8Array([0, 0, 0, 1, 0, 0, 0, 0, 0, count]),
      encoder.encode(rows),
    );
  for (
    const [count, rows] of [
      [2, "a,b,1,2000-01-01,3\n"],
      [1, "a,b,1,2000-01-01,3\nx\n"],
      [1, "a,b,1,2000-01-01,3\nx"],
      [0, "x"],
    ] as const
  ) {
    assert.throws(
      () =>
        decodeMessage({
          type: MessageType.batch,
          payload: payload(count, rows),
        }),
      (e) => e instanceof ProtocolError && e.reason === "malformed",
      JSON.stringify(rows),
    );
  }
});

Deno.test("the decoder refuses every malformed payload", () => {
  const cases: [string, Uint8Array][] = [
    ["short payload", new Uint8Array([0, 0, 1])],
    [
      "trailing bytes",
      concat(
        encodeMessage({ kind: "winnersQuery", agency: 1 }).subarray(
          HEADER_SIZE,
        ),
        new Uint8Array([9]),
      ),
    ],
  ];
  for (const [name, payload] of cases) {
    assert.throws(
      () => decodeMessage({ type: MessageType.winnersQuery, payload }),
      ProtocolError,
      name,
    );
  }
  // deno-fmt-ignore
  const invalidUtf8 = new Uint8Array([0, 0, 0, 1, 0, 1, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.throws(
    () => decodeMessage({ type: MessageType.bet, payload: invalidUtf8 }),
    (e) =>
      e instanceof ProtocolError && e.reason === "malformed" &&
      /UTF-8/.test(e.message),
  );
  assert.throws(
    () =>
      decodeMessage({
        type: MessageType.ack,
        payload: new Uint8Array([0, 0, 0, 1, 0, 1, 2]),
      }),
    /neither 0 nor 1/,
  );
  assert.throws(
    () =>
      decodeMessage({
        type: MessageType.error,
        payload: new Uint8Array([200, 0, 0]),
      }),
    /unknown error code/,
  );
  assert.throws(
    () => decodeMessage({ type: 0x7e, payload: new Uint8Array() }),
    (e) => e instanceof ProtocolError && e.reason === "unknown_type",
  );
});

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
