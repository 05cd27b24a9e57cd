/**
 * Authentication against a running central while 5 real agencies load:
 * peers without a key, with a wrong key or another agency's key, with a
 * replayed handshake, a malformed or oversized one, or silent, try every
 * attack issue 16 names (finish for another agency, bets at another
 * agency's positions, winners and total queries before and after the
 * draw); a peer holding agency 6's key tries them for other agencies.
 * Nothing they send is stored or answered with anything but a refusal,
 * every real agency ends with its own winners, and a burst of failed
 * attempts writes a bounded number of lines that still account for each.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { proofMac } from "../lib/agency_auth.ts";
import {
  encodeMessage,
  MessageType,
  type Response,
} from "../protocol/messages.ts";
import { FAILURE_LINES, FAILURE_WINDOW_MS } from "../server/net/failure_log.ts";
import { concat } from "../protocol/test_fixtures.ts";
import { sampleAgency } from "../scripts/sample_bets.ts";
import {
  agency,
  Central,
  field,
  HARNESS_SECRET,
  harnessKey,
  tempDir,
} from "./harness.ts";
import {
  frameHeader as header,
  helloFor,
  helloOf,
  RawPeer,
} from "./raw_peer.ts";

const REAL = 5;
const INSIDER = 6;
const BETS = 3_000;
const WINNERS = [2, 0, 3, 1, 5];
const BURST = 150;

/** A key of the right form that the central's secret gives nobody. */
const WRONG_KEY = "0123456789abcdef".repeat(4);

/** The impostor's rows: never to be found in bets.csv. */
function fakeRows(agency: number, count: number): Uint8Array {
  return new TextEncoder().encode(
    Array.from(
      { length: count },
      (_, i) => `${agency},Impostor,Falso,${90000000 + i},1990-01-01,7574\n`,
    ).join(""),
  );
}

const finishFor = (agency: number, total = 0) =>
  encodeMessage({ kind: "finish", agency, total });
const batchFor = (agency: number, first: number, count: number) =>
  encodeMessage({
    kind: "batch",
    agency,
    first,
    count,
    rows: fakeRows(agency, count),
  });
const winnersOf = (agency: number) =>
  encodeMessage({ kind: "winnersQuery", agency });
const totalFor = (agency: number) =>
  encodeMessage({ kind: "totalQuery", agency });

/** What one attack got back, and whether the central counts it as a failed attempt. */
interface Outcome {
  readonly name: string;
  readonly answers: Response[];
}

/** Sends `bytes` on a fresh connection with no handshake; reads until the close. */
async function keyless(
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
async function provenWith(
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
async function replays(port: number): Promise<Outcome[]> {
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
async function silent(
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
function attacksWithoutKey(port: number): Promise<Outcome>[] {
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
async function insiderAttacks(port: number): Promise<Outcome[]> {
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
function assertRefused(outcome: Outcome, code: string): void {
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

Deno.test("peers without an agency's key change nothing and learn nothing while 5 agencies load", async () => {
  await using dir = await tempDir("tp0-auth-");
  const samples = WINNERS.map((w, i) => sampleAgency(i + 1, BETS, w, 16));
  const expected: string[] = [];
  for (const [i, sample] of samples.entries()) {
    await Deno.writeTextFile(
      join(dir.path, `agency-${i + 1}.csv`),
      sample.lines.join("\n") + "\n",
    );
    for (const line of sample.lines) expected.push(`${i + 1},${line}`);
  }
  await using central = new Central(join(dir.path, "storage"), {
    AGENCIES: String(REAL + 1),
    // Room for the attackers' connections at once: config.ini's 5 would
    // drop SYNs, and each retry costs the attacker a second.
    SERVER_LISTEN_BACKLOG: "128",
  });
  const port = await central.ready();
  const started = Date.now();
  const real = Array.from({ length: REAL }, (_, i) =>
    agency(i + 1, port, {
      CLI_DATA_PATH: join(dir.path, `agency-${i + 1}.csv`),
      CLI_BATCH_MAXAMOUNT: "20",
    }));

  // During the load: every attack, the silent peers, and a burst.
  const silences = [
    silent(port, "silent", new Uint8Array()),
    silent(
      port,
      "half a hello header",
      header(MessageType.hello, 40).slice(0, 3),
    ),
    silent(port, "a hello header, no payload", header(MessageType.hello, 40)),
  ];
  const refusedUnauthenticated: Outcome[] = [];
  const refusedMalformed: Outcome[] = [];
  // Rounds of every attack until the agencies have sent everything; at
  // least one round must fall within the load.
  const loading = () =>
    central.stdout.matching(/action: apuesta_recibida/).length > 0;
  const loaded = () =>
    central.stdout.matching(/action: agencia_finalizada/).length === REAL;
  const during: Outcome[] = [];
  let overlapped = 0;
  for (let round = 0; round < 100 && !loaded(); round++) {
    const began = loading();
    during.push(...await Promise.all(attacksWithoutKey(port)));
    if (began && !loaded()) overlapped++;
  }
  assert.ok(overlapped > 0, "a round of attacks ran during the load");
  const burst: Outcome[] = [];
  for (let round = 0; round < BURST / 10; round++) {
    burst.push(
      ...await Promise.all(
        Array.from(
          { length: 10 },
          (_, i) =>
            keyless(port, `burst ${round}.${i}`, finishFor(1 + i % REAL)),
        ),
      ),
    );
  }
  const replayed = await replays(port);
  const insiderBefore = await insiderAttacks(port);
  for (const outcome of [...during, ...burst, ...replayed]) {
    (/short|oversized/.test(outcome.name)
      ? refusedMalformed
      : refusedUnauthenticated).push(outcome);
  }

  // The real agencies finish and wait; the insider finishes its empty
  // stream, which makes the draw.
  for (let k = 1; k <= REAL; k++) {
    await central.stdout.waitFor(
      new RegExp(
        `action: agencia_finalizada \\| result: success \\| agencia: ${k} \\|`,
      ),
      60_000,
    );
  }
  {
    using peer = await RawPeer.connect(port);
    await peer.open(helloFor(INSIDER, ""), harnessKey(INSIDER));
    await peer.send(finishFor(INSIDER, 0));
    assert.equal((await peer.next())?.kind, "ack");
  }
  for (const [i, program] of real.entries()) {
    assert.equal(await program.exit(), 0, `agency ${i + 1} exit code`);
    const line = await program.stdout.waitFor(
      /action: consulta_ganadores \| result: success/,
    );
    assert.equal(Number(field(line, "cant_ganadores")), WINNERS[i]);
    await program[Symbol.asyncDispose]();
  }

  // After the draw: the queries again, keyless, with a wrong key, and from the insider.
  const after = await Promise.all([
    keyless(port, "keyless winners after the draw", winnersOf(3)),
    keyless(port, "keyless total after the draw", totalFor(3)),
    provenWith(
      port,
      "wrong key, winners after the draw",
      3,
      WRONG_KEY,
      winnersOf(3),
    ),
  ]);
  refusedUnauthenticated.push(...after);
  const insiderAfter = await insiderAttacks(port);
  const silent3 = await Promise.all(silences);

  for (const outcome of refusedUnauthenticated) {
    assertRefused(outcome, "unauthenticated");
  }
  for (const outcome of refusedMalformed) {
    assertRefused(outcome, "malformedFrame");
  }
  for (const outcome of [...insiderBefore, ...insiderAfter]) {
    assertRefused(outcome, "forbidden");
  }
  for (const outcome of silent3) {
    assert.deepEqual(outcome.answers, [], outcome.name);
    assert.ok(
      outcome.closedAfterMs >= 4_500 && outcome.closedAfterMs < 15_000,
      `${outcome.name}: closed after ${outcome.closedAfterMs} ms`,
    );
  }

  // Every real bet once, nothing of the impostors.
  const stored = (await Deno.readTextFile(join(central.storageDir, "bets.csv")))
    .split("\n").filter((l) => l !== "");
  assert.equal(stored.length, REAL * BETS);
  assert.deepEqual(stored.sort(), expected.sort());
  const perAgency = await central.stdout.waitFor(
    /action: ganadores_por_agencia/,
  );
  assert.equal(Number(field(perAgency, `agencia_${INSIDER}`)), 0);
  assert.equal(Number(field(perAgency, "total")), 11);

  central.kill("SIGTERM");
  assert.equal(await central.exit(30_000), 0);
  const elapsed = Date.now() - started;
  const lines = central.stdout.all;
  for (
    const secret of [
      HARNESS_SECRET,
      ...Array.from({ length: 7 }, (_, i) => harnessKey(i + 1)),
    ]
  ) {
    assert.ok(lines.every((l) => !l.includes(secret)), "no line holds a key");
  }
  // Each failed attempt of a peer with no proven agency is a fail line of
  // its own or counted in a failed_attempts line; the insider's are lines
  // of their own; nothing else failed.
  const fails = lines.filter((l) => /result: fail/.test(l));
  const single = fails.filter((l) =>
    /action: (autenticacion|receive_message) \|/.test(l)
  );
  const summaries = fails.filter((l) => /action: failed_attempts \|/.test(l));
  const forbidden = fails.filter((l) =>
    /action: request \|.*speaks for agency 6/.test(l)
  );
  assert.deepEqual(
    fails.filter((l) =>
      !single.includes(l) && !summaries.includes(l) && !forbidden.includes(l)
    ),
    [],
  );
  assert.equal(forbidden.length, insiderBefore.length + insiderAfter.length);
  const suppressed = summaries.reduce(
    (n, l) => n + Number(field(l, "suppressed")),
    0,
  );
  const attempts = refusedUnauthenticated.length + refusedMalformed.length +
    silent3.length;
  assert.equal(single.length + suppressed, attempts);
  assert.ok(suppressed > 0, "the burst was summed up");
  const windows = Math.ceil(elapsed / FAILURE_WINDOW_MS) + 1;
  assert.ok(
    single.length <= FAILURE_LINES * 2 * windows,
    `${single.length} fail lines for ${attempts} attempts in ${elapsed} ms`,
  );
  assert.ok(
    single.every((l) => /ip: 127\.0\.0\.1/.test(l)),
    "each names its peer",
  );
});
