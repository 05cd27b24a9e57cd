/**
 * Tests of the messages' encoders and decoders on byte fixtures: round trips,
 * the documented byte layouts and the refusal of malformed payloads.
 *
 * @module
 */
import assert from "node:assert/strict";
import { HEADER_SIZE } from "./frame.ts";
import {
  decodeMessage,
  DIGEST_SIZE,
  encodeMessage,
  isOpening,
  isRequest,
  MAC_SIZE,
  type Message,
  MessageType,
  NONCE_SIZE,
} from "./messages.ts";
import { ProtocolError } from "./protocol_error.ts";
import { batch, BET, concat, roundTrip } from "./test_fixtures.ts";

const encoder = new TextEncoder();

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
