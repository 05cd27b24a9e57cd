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
 * The attackers are in auth_attacks.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { MessageType } from "../protocol/messages.ts";
import { FAILURE_LINES, FAILURE_WINDOW_MS } from "../server/net/failure_log.ts";
import { sampleAgency } from "../scripts/sample_bets.ts";
import {
  assertRefused,
  attacksWithoutKey,
  BETS,
  finishFor,
  INSIDER,
  insiderAttacks,
  keyless,
  type Outcome,
  provenWith,
  REAL,
  replays,
  silent,
  totalFor,
  winnersOf,
  WRONG_KEY,
} from "./auth_attacks.ts";
import {
  agency,
  Central,
  field,
  HARNESS_SECRET,
  harnessKey,
  tempDir,
} from "./harness.ts";
import { frameHeader as header, helloFor, RawPeer } from "./raw_peer.ts";

const WINNERS = [2, 0, 3, 1, 5];
const BURST = 150;

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
