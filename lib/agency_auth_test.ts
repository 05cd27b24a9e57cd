/**
 * Tests of the agencies' keys and proofs, on known answers.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  agencyKey,
  constantTimeEqual,
  isAgencyKey,
  proofMac,
  verifyProof,
} from "./agency_auth.ts";

// Known answers computed independently:
//   printf 'agency:3' | openssl dgst -sha256 -hmac 'correct horse battery staple'
const SECRET = "correct horse battery staple";
const KEY_3 =
  "eaa61f84628744e520fdd26b4d0a67e4b4c3bc6eae8b32c301ccba149669c965";

/** A copy of `bytes` with bit `mask` of byte `at` flipped. */
const flip = (bytes: Uint8Array, at: number, mask = 1) => {
  const copy = bytes.slice();
  copy[at] = copy[at]! ^ mask;
  return copy;
};

const hex = (bytes: Uint8Array) =>
  [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

Deno.test("agency keys match an independent HMAC-SHA256, the secret as UTF-8", async () => {
  assert.equal(await agencyKey(SECRET, 3), KEY_3);
  // printf 'agency:1' | openssl dgst -sha256 -hmac 'ñandú-secret'
  assert.equal(
    await agencyKey("ñandú-secret", 1),
    "aea1819c010a5686734a15bc47a24ac0a458c6b33e483f37f807d33d51d29807",
  );
  assert.notEqual(await agencyKey(SECRET, 4), KEY_3);
  assert.ok(isAgencyKey(KEY_3));
  for (const id of [-1, 1.5, 2 ** 32]) {
    await assert.rejects(agencyKey(SECRET, id), RangeError);
  }
});

const NONCE = new Uint8Array(32).map((_, i) => i);
const HELLO = { agency: 3, total: 258, digest: new Uint8Array(32).fill(0xab) };

Deno.test("the proof's MAC matches an independent HMAC over label, nonce and hello", async () => {
  // The message "tp0-proof-v1" ‖ 00 01 … 1f ‖ 00000003 ‖ 00000102 ‖ ab×32,
  // written to a file and signed with: openssl dgst -sha256 -hmac "$KEY_3"
  const mac = await proofMac(KEY_3, NONCE, HELLO);
  assert.equal(
    hex(mac),
    "0e4736f7655371c443b5b1c4edcd8218a01ac4190ba552135d62f7930761abe0",
  );
  assert.ok(await verifyProof(KEY_3, NONCE, HELLO, mac));
});

Deno.test("a proof fails for any other key, nonce, agency, total, digest or MAC", async () => {
  const mac = await proofMac(KEY_3, NONCE, HELLO);
  const otherNonce = flip(NONCE, 31);
  const otherDigest = flip(HELLO.digest, 0, 0x80);
  const otherMac = flip(mac, 16, 4);
  const cases: [string, Parameters<typeof verifyProof>][] = [
    ["another key", [await agencyKey(SECRET, 4), NONCE, HELLO, mac]],
    ["another nonce", [KEY_3, otherNonce, HELLO, mac]],
    ["another agency", [KEY_3, NONCE, { ...HELLO, agency: 4 }, mac]],
    ["another total", [KEY_3, NONCE, { ...HELLO, total: 259 }, mac]],
    ["another digest", [KEY_3, NONCE, { ...HELLO, digest: otherDigest }, mac]],
    ["another MAC", [KEY_3, NONCE, HELLO, otherMac]],
    ["a short MAC", [KEY_3, NONCE, HELLO, mac.subarray(0, 31)]],
  ];
  for (const [name, args] of cases) {
    assert.equal(await verifyProof(...args), false, name);
  }
});

Deno.test("a key not in agencyKey's form is refused, and never quoted", async () => {
  for (const key of ["", KEY_3.toUpperCase(), KEY_3 + "0", "x".repeat(64)]) {
    await assert.rejects(
      proofMac(key, NONCE, HELLO),
      (e) =>
        e instanceof RangeError && /64 lowercase hex digits/.test(e.message) &&
        (key === "" || !e.message.includes(key)),
    );
    assert.ok(!isAgencyKey(key));
  }
});

Deno.test("constant-time compare: equal bytes, one differing bit, other lengths", () => {
  const a = new Uint8Array([1, 2, 3, 4]);
  assert.ok(constantTimeEqual(a, a.slice()));
  assert.ok(constantTimeEqual(new Uint8Array(), new Uint8Array()));
  for (let i = 0; i < a.length; i++) {
    assert.ok(!constantTimeEqual(a, flip(a, i, 0x80)), `byte ${i}`);
  }
  assert.ok(!constantTimeEqual(a, a.subarray(0, 3)));
});
