/**
 * Frames an agency pipelined behind a refused one are neither stored nor
 * answered: the refusal is the connection's last reply, however many
 * frames were already read behind it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeMessage } from "../protocol/messages.ts";
import { Central, harnessKey, tempDir } from "./harness.ts";
import { helloOf, RawPeer } from "./raw_peer.ts";

const TOTAL = 1000;
const encoder = new TextEncoder();

/** A batch of agency 1 at `first`; `document` replaces every row's DNI. */
function batch(first: number, count: number, document?: string): Uint8Array {
  let rows = "";
  for (let i = 0; i < count; i++) {
    rows += `1,Ana,Díaz,${
      document ?? 30_000_000 + first + i
    },1999-03-17,7574\n`;
  }
  return encodeMessage({
    kind: "batch",
    agency: 1,
    first,
    count,
    rows: encoder.encode(rows),
  });
}

/** Opens a proven connection of agency 1 and sends `frames` in one write. */
async function pipeline(port: number, frames: Uint8Array[]) {
  using peer = await RawPeer.connect(port);
  const stored = await peer.open(helloOf(1, TOTAL), harnessKey(1));
  const bytes = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const frame of frames) {
    bytes.set(frame, at);
    at += frame.length;
  }
  await peer.send(bytes);
  return { stored, answers: await peer.rest() };
}

Deno.test("frames pipelined after a refusal are neither stored nor answered", async () => {
  await using dir = await tempDir("tp0-pipelined-");
  await using central = new Central(join(dir.path, "storage"), {
    AGENCIES: "1",
  });
  const port = await central.ready();
  const after = (from: number) =>
    Array.from({ length: 200 }, (_, k) => batch(from + k, 1));

  // Two stored, then a gap, then 200 batches that would continue the
  // stream, a finish and a query.
  const gap = await pipeline(port, [
    batch(0, 2),
    batch(50, 2),
    ...after(2),
    encodeMessage({ kind: "finish", agency: 1, total: 202 }),
    encodeMessage({ kind: "winnersQuery", agency: 1 }),
  ]);
  assert.equal(gap.stored, 0);
  assert.deepEqual(
    gap.answers.map((m) => m.kind === "error" ? m.code : m.kind),
    [
      "ack",
      "outOfOrder",
    ],
  );

  // An invalid batch, then 200 valid ones.
  const invalid = await pipeline(port, [batch(2, 1, "not-a-dni"), ...after(2)]);
  assert.equal(invalid.stored, 2);
  assert.deepEqual(
    invalid.answers.map((m) => m.kind === "error" ? m.code : m.kind),
    ["invalidBet"],
  );

  // A third connection is welcomed with the first two bets only.
  {
    using peer = await RawPeer.connect(port);
    assert.equal(await peer.open(helloOf(1, TOTAL), harnessKey(1)), 2);
  }
  const rows = (await Deno.readTextFile(join(central.storageDir, "bets.csv")))
    .split("\n").filter((l) => l !== "");
  assert.equal(rows.length, 2, rows.slice(0, 5).join("\n"));
  assert.equal(
    central.stdout.matching(/action: apuesta_recibida \| result: fail/).length,
    2,
  );
  central.kill("SIGTERM");
  assert.equal(await central.exit(30_000), 0);
});
