/**
 * Load: 200 agencies connected to one central at once, each sending its
 * batches, finishing and asking for its winners. The agencies are the
 * agency's own client code (CentralClient with a window of 8, BatchBuilder) running in this one
 * process: 200 Deno processes would need about 8 GB for nothing more.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { BatchFrame } from "../agency/bet_file.ts";
import { CentralClient, sleep } from "../agency/central_client.ts";
import { sha256 } from "../agency/stream_digest.ts";
import type { ActionLog } from "../lib/log.ts";
import { BatchBuilder } from "../protocol/batch_builder.ts";
import { encodeMessage, type Response } from "../protocol/messages.ts";
import { sampleAgency } from "../scripts/sample_bets.ts";
import { Central, harnessKey, tempDir } from "./harness.ts";

const AGENCIES = 200;
const BETS = 250;
const quiet: ActionLog = { debug() {}, info() {}, warning() {}, error() {} };

function answer(responses: Response[]): Response {
  const first = responses[0];
  if (first === undefined || first.kind === "error") {
    throw new Error(`refused: ${JSON.stringify(first)}`);
  }
  return first;
}

/** The agency's lines as batch frames of at most 50 bets. */
async function* frames(
  id: number,
  lines: string[],
): AsyncGenerator<BatchFrame> {
  const builder = new BatchBuilder(id, 50);
  let first = 0;
  const take = () => {
    const count = builder.count;
    const batch = { frame: builder.take(first), first, count };
    first += count;
    return batch;
  };
  for (const line of lines) {
    const bytes = new TextEncoder().encode(line);
    if (!builder.tryAdd(bytes, 0, bytes.length)) {
      yield take();
      builder.tryAdd(bytes, 0, bytes.length);
    }
  }
  yield take();
}

async function runAgency(
  id: number,
  port: number,
  stop: AbortSignal,
  connected: () => void,
): Promise<{ winners: number; expected: number }> {
  const sample = sampleAgency(id, BETS, id % 3);
  using client = new CentralClient("127.0.0.1", port, quiet, stop, {
    key: harnessKey(id),
  });
  const rows = sample.lines.map((line) =>
    new TextEncoder().encode(`${id},${line}\n`)
  );
  client.announce({ agency: id, total: BETS, digest: await sha256(rows) });
  let sent = 0;
  await client.sendBatches(
    frames(id, sample.lines),
    8,
    (batch) => {
      if (sent === 0) connected();
      assert.equal(batch.first, sent);
      sent += batch.count;
    },
  );
  assert.equal(sent, BETS);
  answer(
    await client.request(
      encodeMessage({ kind: "finish", agency: id, total: sent }),
    ),
  );
  for (;;) {
    const responses = await client.request(
      encodeMessage({ kind: "winnersQuery", agency: id }),
    );
    if (answer(responses).kind === "winners") {
      const documents = responses.flatMap((
        r,
      ) => (r.kind === "winners" ? r.documents : []));
      assert.deepEqual(documents, sample.winners);
      return { winners: documents.length, expected: sample.winners.length };
    }
    await sleep(50, stop);
  }
}

Deno.test(`load: ${AGENCIES} agencies connected at once all succeed`, async () => {
  await using dir = await tempDir("tp0-load-");
  await using central = new Central(join(dir.path, "storage"), {
    AGENCIES: String(AGENCIES),
  });
  const port = await central.ready();
  const stop = new AbortController();
  let connectedNow = 0;
  let peak = 0;
  // Between its first acknowledged batch and its winners, an agency holds its
  // connection; none can get winners before all have finished.
  const results = await Promise.all(
    Array.from({ length: AGENCIES }, async (_, i) => {
      const result = await runAgency(i + 1, port, stop.signal, () => {
        connectedNow++;
        peak = Math.max(peak, connectedNow);
      });
      connectedNow--;
      return result;
    }),
  );
  assert.equal(results.length, AGENCIES);
  assert.equal(
    peak,
    AGENCIES,
    "every agency held a connection at the same time",
  );
  for (const result of results) assert.equal(result.winners, result.expected);
  const stored = (await Deno.readTextFile(join(central.storageDir, "bets.csv")))
    .split("\n").filter((l) => l !== "");
  assert.equal(stored.length, AGENCIES * BETS);
  assert.equal(
    central.stdout.matching(/action: sorteo \| result: success/).length,
    1,
  );
  assert.deepEqual(central.stdout.matching(/result: fail/), []);
  central.kill("SIGTERM");
  assert.equal(await central.exit(30_000), 0);
});
