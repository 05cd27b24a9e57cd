/**
 * Agency keys and the proof of the opening exchange (see the README's
 * protocol section): agency K's key is derived from the central's secret,
 * and a connection proves it holds the key with an HMAC over the central's
 * fresh nonce and the agency's hello. Plain values in, plain values out; no
 * permission needed. WebCrypto, not `node:crypto`: importing a `node:`
 * module slows every agency's start (see docs/performance.md).
 */

/** Characters in an agency key: the lowercase hex of a SHA-256 HMAC. */
export const AGENCY_KEY_LENGTH = 64;

const KEY_FORM = /^[0-9a-f]{64}$/;
const encoder = new TextEncoder();
const PROOF_LABEL = encoder.encode("tp0-proof-v1");

/** HMAC-SHA256 of `message` with `key`. */
async function hmac(
  key: Uint8Array<ArrayBuffer>,
  message: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    key,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, message));
}

/** What a proof covers besides the nonce: the fields of the agency's hello. */
export interface ProvenHello {
  /** The agency id. */
  readonly agency: number;
  /** Bets in its whole stream. */
  readonly total: number;
  /** SHA-256 of its whole stream as stored rows (32 bytes). */
  readonly digest: Uint8Array;
}

/**
 * Agency `agency`'s key: the lowercase hex of HMAC-SHA256 with the UTF-8 of
 * `secret` as key over `agency:K` (K in decimal). Rejects with `RangeError`
 * for an agency id that is not a `u32`.
 */
export async function agencyKey(
  secret: string,
  agency: number,
): Promise<string> {
  checkU32("agency", agency);
  const mac = await hmac(
    encoder.encode(secret),
    encoder.encode(`agency:${agency}`),
  );
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** True when `key` has the form {@linkcode agencyKey} gives: 64 lowercase hex digits. */
export function isAgencyKey(key: string): boolean {
  return KEY_FORM.test(key);
}

/**
 * The proof's MAC: HMAC-SHA256 with the key's ASCII text as key over
 * `"tp0-proof-v1" ‖ nonce ‖ agency u32 ‖ total u32 ‖ digest` (big-endian).
 * Rejects with `RangeError` for a key not of {@linkcode agencyKey}'s form
 * or a number that is not a `u32`.
 */
export async function proofMac(
  key: string,
  nonce: Uint8Array,
  hello: ProvenHello,
): Promise<Uint8Array> {
  if (!isAgencyKey(key)) {
    throw new RangeError(
      `Cannot compute proof: the key is not ${AGENCY_KEY_LENGTH} lowercase hex digits`,
    );
  }
  checkU32("agency", hello.agency);
  checkU32("total", hello.total);
  const message = new Uint8Array(
    PROOF_LABEL.length + nonce.length + 8 + hello.digest.length,
  );
  const view = new DataView(message.buffer);
  let at = 0;
  message.set(PROOF_LABEL, at);
  message.set(nonce, at += PROOF_LABEL.length);
  view.setUint32(at += nonce.length, hello.agency);
  view.setUint32(at += 4, hello.total);
  message.set(hello.digest, at + 4);
  return await hmac(encoder.encode(key), message);
}

/**
 * True when `mac` is the proof of `key` for `nonce` and `hello`, compared in
 * constant time. Rejects like {@linkcode proofMac}.
 */
export async function verifyProof(
  key: string,
  nonce: Uint8Array,
  hello: ProvenHello,
  mac: Uint8Array,
): Promise<boolean> {
  return constantTimeEqual(await proofMac(key, nonce, hello), mac);
}

/**
 * True when `a` and `b` hold the same bytes, in a time that depends only on
 * their lengths (which are not secret), never on where they differ.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

function checkU32(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(
      `Cannot compute agency key: ${what} ${value} is not a u32`,
    );
  }
}
