/**
 * The central's half of the proof in the opening exchange: fresh nonces,
 * and the check of an agency's proof against the key its secret gives.
 *
 * @module
 */
import {
  agencyKey,
  type ProvenHello,
  verifyProof,
} from "../../lib/agency_auth.ts";
import { NONCE_SIZE } from "../../protocol/messages.ts";

/**
 * Checks proofs with the central's `AUTH_SECRET`: agency K's key is derived
 * from it at each check (a few microseconds), so nothing but the secret is
 * kept, and a peer naming many agency ids costs no memory.
 */
export class Authenticator {
  readonly #secret: string;

  /**
   * Checks proofs against keys derived from `secret`.
   *
   * @param secret the central's `AUTH_SECRET`
   */
  constructor(secret: string) {
    this.#secret = secret;
  }

  /** A fresh random nonce for one connection's challenge. */
  nonce(): Uint8Array {
    return crypto.getRandomValues(new Uint8Array(NONCE_SIZE));
  }

  /**
   * True when `mac` proves that the peer holds the key of `hello.agency`,
   * for this `nonce` and this hello; compared in constant time.
   */
  async verify(
    nonce: Uint8Array,
    hello: ProvenHello,
    mac: Uint8Array,
  ): Promise<boolean> {
    const key = await agencyKey(this.#secret, hello.agency);
    return await verifyProof(key, nonce, hello, mac);
  }
}
