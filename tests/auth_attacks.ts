/**
 * The attackers of the authentication test (`auth_test.ts`): peers without
 * a key, with a wrong key or another agency's key, replaying a recorded
 * handshake, malformed, oversized or silent, and an insider holding agency
 * 6's key, each returning what the central answered.
 *
 * @module
 */
import assert from "node:assert/strict";
import { proofMac } from "../lib/agency_auth.ts";
import {
  encodeMessage,
  MessageType,
  type Response,
} from "../protocol/messages.ts";
import { concat } from "../protocol/test_fixtures.ts";
import { harnessKey } from "./harness.ts";
import {
  frameHeader as header,
  helloFor,
  helloOf,
  RawPeer,
} from "./raw_peer.ts";

/** The real agencies that load while the attacks run. */
export const REAL = 5;
/** The agency whose key the insider holds. */
export const INSIDER = 6;
/** Bets in each real agency's file. */
export const BETS = 3_000;

/** A key of the right form that the central's secret gives nobody. */
export const WRONG_KEY: string = "0123456789abcdef".repeat(4);

/** The impostor's rows: never to be found in bets.csv. */
function fakeRows(agency: number, count: number): Uint8Array {
  return new TextEncoder().encode(
    Array.from(
      { length: count },
      (_, i) => `${agency},Impostor,Falso,${90000000 + i},1990-01-01,7574\n`,
    ).join(""),
  );
}

/** A finish frame for `agency`. */
export const finishFor = (agency: number, total = 0): Uint8Array =>
  encodeMessage({ kind: "finish", agency, total });
/** A batch frame of impostor rows at `agency`'s positions. */
export const batchFor = (
  agency: number,
  first: number,
  count: number,
): Uint8Array =>
  encodeMessage({
    kind: "batch",
    agency,
    first,
    count,
    rows: fakeRows(agency, count),
  });
/** A winners query for `agency`. */
export const winnersOf = (agency: number): Uint8Array =>
  encodeMessage({ kind: "winnersQuery", agency });
/** A total query as `agency`. */
export const totalFor = (agency: number): Uint8Array =>
  encodeMessage({ kind: "totalQuery", agency });

/** What one attack got back, and whether the central counts it as a failed attempt. */
export interface Outcome {
  /** The attack. */
  readonly name: string;
  /** Every message the central sent back, in order. */
  readonly answers: Response[];
}

/** Sends `bytes` on a fresh connection with no handshake; reads until the close. */
export async function keyless(
  port: number,
  name: string,
  bytes: Uint8Array,
): Promise<Outcome> {
  using peer = await RawPeer.connect(port);
  await peer.send(bytes);
  return { name, answers: await peer.rest() };
}

/**
 * A hello for `agency` answered with a proof made with `key`; after the
 * central's answer, `after` (a request it hopes to get served), then reads
 * until the close. (Written before the answer, bytes the central never
 * reads would make its close a reset, which may drop its answer.)
 */
export async function provenWith(
  port: number,
  name: string,
  agency: number,
  key: string,
  after: Uint8Array,
): Promise<Outcome> {
  using peer = await RawPeer.connect(port);
  const hello = helloOf(agency, BETS);
  await peer.send(encodeMessage({ kind: "hello", ...hello }));
  const answers: Response[] = [];
  const challenge = await peer.next();
  if (challenge !== null) answers.push(challenge);
  if (challenge?.kind === "challenge") {
    const mac = await proofMac(key, challenge.nonce, hello);
    await peer.send(encodeMessage({ kind: "proof", mac }));
    const answer = await peer.next();
    if (answer !== null) answers.push(answer);
    await peer.send(after);
  }
  answers.push(...await peer.rest());
  return { name, answers };
}

/**
 * Records a whole handshake of the insider, then replays its hello and
 * proof on new connections: once blindly, once after reading the new
 * challenge.
 */
export async function replays(port: number): Promise<Outcome[]> {
  const hello = helloFor(INSIDER, "");
  const helloBytes = encodeMessage({ kind: "hello", ...hello });
  let proofBytes: Uint8Array;
  {
    using peer = await RawPeer.connect(port);
    await peer.send(helloBytes);
    const challenge = await peer.next();
    assert.equal(challenge?.kind, "challenge");
    if (challenge?.kind !== "challenge") throw new Error("no challenge");
    const mac = await proofMac(harnessKey(INSIDER), challenge.nonce, hello);
    proofBytes = encodeMessage({ kind: "proof", mac });
    await peer.send(proofBytes);
    assert.equal((await peer.next())?.kind, "welcome");
  }
  const blind = await keyless(
    port,
    "blind replay",
    concat(helloBytes, proofBytes),
  );
  using peer = await RawPeer.connect(port);
  await peer.send(helloBytes);
  const answers: Response[] = [];
  const challenge = await peer.next();
  if (challenge !== null) answers.push(challenge);
  await peer.send(proofBytes);
  answers.push(...await peer.rest());
  return [blind, { name: "replay after a new challenge", answers }];
}

/** A connection that sends `bytes` (maybe none) and then says nothing. */
export async function silent(
  port: number,
  name: string,
  bytes: Uint8Array,
): Promise<Outcome & { closedAfterMs: number }> {
  const started = Date.now();
  using peer = await RawPeer.connect(port);
  await peer.send(bytes);
  const answers = await peer.rest(20_000);
  return { name, answers, closedAfterMs: Date.now() - started };
}

/** Every attack of a peer without agency K's key, for the agencies 1…5. */
export function attacksWithoutKey(port: number): Promise<Outcome>[] {
  return [
    ...Array.from(
      { length: REAL },
      (_, i) => keyless(port, `keyless finish(${i + 1})`, finishFor(i + 1)),
    ),
    keyless(port, "keyless bets at agency 3's positions", batchFor(3, 0, 160)),
    keyless(port, "keyless winners query", winnersOf(1)),
    keyless(port, "keyless total query", totalFor(1)),
    keyless(
      port,
      "keyless proof first",
      encodeMessage({ kind: "proof", mac: new Uint8Array(32) }),
    ),
    keyless(
      port,
      "two hellos",
      concat(
        encodeMessage({ kind: "hello", ...helloOf(2) }),
        encodeMessage({ kind: "hello", ...helloOf(2) }),
      ),
    ),
    keyless(
      port,
      "short hello",
      concat(header(MessageType.hello, 39), new Uint8Array(39)),
    ),
    keyless(port, "oversized hello", header(MessageType.hello, 100_000)),
    provenWith(port, "wrong key, finish", 2, WRONG_KEY, finishFor(2)),
    provenWith(port, "wrong key, bets", 3, WRONG_KEY, batchFor(3, 0, 50)),
    provenWith(
      port,
      "agency 1's key for agency 2",
      2,
      harnessKey(1),
      finishFor(2),
    ),
    provenWith(port, "wrong key, winners", 1, WRONG_KEY, winnersOf(1)),
  ];
}

/** The insider (agency 6, its own key) asks about or acts for agencies 1…5. */
export async function insiderAttacks(port: number): Promise<Outcome[]> {
  const frames: [string, Uint8Array][] = [
    ["insider finish(2)", finishFor(2, BETS)],
    ["insider bets at agency 3's positions", batchFor(3, 0, 20)],
    ["insider winners of agency 1", winnersOf(1)],
    ["insider total as agency 4", totalFor(4)],
  ];
  const outcomes: Outcome[] = [];
  for (const [name, bytes] of frames) {
    using peer = await RawPeer.connect(port);
    await peer.open(helloFor(INSIDER, ""), harnessKey(INSIDER));
    await peer.send(bytes);
    outcomes.push({ name, answers: await peer.rest() });
  }
  return outcomes;
}

/** What a refused attack may have been told: a challenge, then one refusal. */
export function assertRefused(outcome: Outcome, code: string): void {
  const kinds = outcome.answers.map((a) =>
    a.kind === "error" ? `error:${a.code}` : a.kind
  );
  const last = kinds.at(-1);
  assert.equal(last, `error:${code}`, `${outcome.name}: ${kinds.join(", ")}`);
  assert.ok(
    kinds.slice(0, -1).every((k) => k === "challenge"),
    `${outcome.name} learned nothing but a challenge: ${kinds.join(", ")}`,
  );
}
