/**
 * A bet or batch whose refused value nearly fills a frame is answered with
 * an `invalidBet` error reply that fits a frame, and the worker that
 * served it lives on: one peer's frame never ends a worker.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { MAX_FRAME_SIZE } from "../protocol/frame.ts";
import { encodeMessage } from "../protocol/messages.ts";
import { Central, harnessKey, tempDir } from "./harness.ts";
import { helloOf, RawPeer } from "./raw_peer.ts";

/** A document of digits and letters that leaves the frame just under 8 kB. */
const DOCUMENT = "99999" + "x".repeat(8120);

Deno.test("a refused value of nearly a frame gets an invalidBet reply and the worker lives", async () => {
  await using dir = await tempDir("tp0-oversized-");
  await using central = new Central(join(dir.path, "storage"), {
    AGENCIES: "2",
    WORKERS: "1",
  });
  const port = await central.ready();
  const [pid] = central.workerPids();

  const bet = encodeMessage({
    kind: "bet",
    agency: 1,
    bet: {
      firstName: "Ana",
      lastName: "Díaz",
      document: DOCUMENT,
      birthdate: "1999-03-17",
      number: "7574",
    },
  });
  const rows = new TextEncoder().encode(
    `2,Ana,Díaz,${DOCUMENT.slice(0, 8100)},1999-03-17,7574\n`,
  );
  const batch = encodeMessage({
    kind: "batch",
    agency: 2,
    first: 0,
    count: 1,
    rows,
  });
  for (const frame of [bet, batch]) {
    assert.ok(frame.length > MAX_FRAME_SIZE - 80 && frame.length <= 8192);
  }

  for (const [agency, frame] of [[1, bet], [2, batch]] as const) {
    using peer = await RawPeer.connect(port);
    assert.equal(await peer.open(helloOf(agency, 1), harnessKey(agency)), 0);
    assert.ok(await peer.send(frame));
    const answers = await peer.rest();
    assert.equal(answers.length, 1, JSON.stringify(answers).slice(0, 300));
    const [answer] = answers;
    assert.ok(answer?.kind === "error");
    assert.equal(answer.code, "invalidBet");
    assert.ok(answer.message.length < 200, answer.message);
  }

  // The same worker serves the next agency; none exited.
  {
    using peer = await RawPeer.connect(port);
    assert.equal(await peer.open(helloOf(1, 1), harnessKey(1)), 0);
  }
  assert.deepEqual(central.workerPids(), [pid]);
  assert.deepEqual(central.stdout.matching(/worker_exited/), []);
  assert.deepEqual(central.stderr.matching(/Uncaught/), []);
  central.kill("SIGTERM");
  assert.equal(await central.exit(30_000), 0);
});
