/**
 * The agency's side of the opening exchange every framed connection starts
 * with (see the README's protocol section): hello → challenge → proof →
 * welcome. It proves the agency holds its key without sending it, and
 * names the whole stream the agency is about to send.
 */
import { proofMac, type ProvenHello } from "../lib/agency_auth.ts";
import { encodeMessage, type Response } from "../protocol/messages.ts";
import { CentralRefusedError, expectAnswer } from "./central_refused_error.ts";

/** What the handshake needs from a connection: send bytes, read one answer. */
export interface HandshakeChannel {
  /** Writes all of `bytes`. */
  send(bytes: Uint8Array): Promise<void>;
  /** Reads the central's next message. */
  receive(): Promise<Response>;
}

/** What a refusal of the handshake most likely means, for the fail line. */
const HINTS: Readonly<Record<string, (agency: number) => string>> = {
  unauthenticated: (agency) =>
    `is auth.key the key the central's secret gives agency ${agency}?`,
  forbidden: (agency) => `the key is not agency ${agency}'s`,
  conflict: (agency) =>
    `the central holds another stream of bets for agency ${agency}: a different file under the same id`,
};

/**
 * Opens the connection for `hello`'s agency with its `key`: sends the
 * hello, answers the challenge with the proof, and returns the welcome's
 * count of this stream's bets the central holds. Throws
 * {@linkcode CentralRefusedError} when the central refuses (with a hint for
 * `unauthenticated`, `forbidden` and `conflict`), and whatever `channel`
 * throws.
 */
export async function openConnection(
  channel: HandshakeChannel,
  hello: ProvenHello,
  key: string,
): Promise<number> {
  try {
    const { agency, total, digest } = hello;
    await channel.send(encodeMessage({ kind: "hello", agency, total, digest }));
    const { nonce } = expectAnswer([await channel.receive()], "challenge");
    const mac = await proofMac(key, nonce, hello);
    await channel.send(encodeMessage({ kind: "proof", mac }));
    return expectAnswer([await channel.receive()], "welcome").stored;
  } catch (error) {
    if (!(error instanceof CentralRefusedError)) throw error;
    const hint = HINTS[error.code];
    if (hint === undefined) throw error;
    throw new CentralRefusedError(
      error.code,
      `${error.reason} (${hint(hello.agency)})`,
    );
  }
}
