/**
 * Tests of the lottery stage against a scripted central.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { ProvenHello } from "../lib/agency_auth.ts";
import type { ActionLog, Fields, Result } from "../lib/log.ts";
import { HEADER_SIZE } from "../protocol/frame.ts";
import { decodeMessage, type Response } from "../protocol/messages.ts";
import { sampleAgency } from "../scripts/sample_bets.ts";
import type { BatchFrame } from "./bet_file.ts";
import { checkBetFile } from "./bet_file.ts";
import {
  DrawTimeoutError,
  MAX_PROGRESS_LINES,
  runLotteryStage,
} from "./lottery_stage.ts";

/**
 * A central that acknowledges everything and makes the agency wait
 * `pendingAnswers` times (twice by default).
 */
function fakeCentral(winners: string[], pendingAnswers = 2) {
  const batches: number[] = [];
  const announced: ProvenHello[] = [];
  return {
    batches,
    announced,
    announce(hello: ProvenHello): void {
      announced.push(hello);
    },
    async sendBatches(
      frames: AsyncIterable<BatchFrame>,
      _window: number,
      onAck: (batch: BatchFrame, latencyMs: number) => void,
    ): Promise<void> {
      for await (const batch of frames) {
        const message = decodeMessage({
          type: batch.frame[0]!,
          payload: batch.frame.subarray(HEADER_SIZE),
        });
        assert.ok(message.kind === "batch");
        assert.equal(message.first, batch.first);
        batches.push(message.count);
        onAck(batch, 0.1);
      }
    },
    request(frame: Uint8Array): Promise<Response[]> {
      const message = decodeMessage({
        type: frame[0]!,
        payload: frame.subarray(HEADER_SIZE),
      });
      switch (message.kind) {
        case "finish":
          return Promise.resolve([{
            kind: "ack",
            first: message.total,
            count: 0,
            duplicate: false,
          }]);
        case "totalQuery":
          return Promise.resolve(
            pendingAnswers-- > 0
              ? [{ kind: "pending", pendingAgencies: pendingAnswers + 1 }]
              : [{ kind: "total", totalWinners: 9 }],
          );
        case "winnersQuery":
          return Promise.resolve([
            { kind: "winners", last: false, documents: winners.slice(0, 1) },
            { kind: "winners", last: true, documents: winners.slice(1) },
          ]);
        default:
          throw new Error(`unexpected ${message.kind}`);
      }
    },
  };
}

function recordingLog(lines: string[]): ActionLog {
  const at = (action: string, result: Result, fields: Fields = {}) =>
    lines.push(
      [
        `${action}:${result}`,
        ...Object.entries(fields).map(([k, v]) => `${k}=${v}`),
      ].join(" "),
    );
  return { debug: at, info: at, warning: at, error: at };
}

Deno.test("the lottery stage: batches, bounded progress, partial answers, share", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tp0-stage-" });
  try {
    const sample = sampleAgency(1, 1000, 3);
    const path = join(dir, "agency.csv");
    await Deno.writeTextFile(path, sample.lines.join("\r\n") + "\r\n");
    const central = fakeCentral(sample.winners);
    const lines: string[] = [];
    let clock = 0;
    const result = await runLotteryStage({
      id: 1,
      dataPath: path,
      batchMaxAmount: 10,
      periodMs: 1,
      client: central,
      log: recordingLog(lines),
      stop: new AbortController().signal,
      now: () => (clock += 500),
    });
    assert.deepEqual(result, {
      sent: 1000,
      winners: sample.winners,
      totalWinners: 9,
    });
    assert.deepEqual(central.announced, [
      { agency: 1, ...await checkBetFile(path, 1) },
    ]);
    assert.equal(central.batches.length, 100);
    assert.ok(central.batches.every((n) => n === 10));
    const progress = lines.filter((l) => l.startsWith("progreso:in_progress"));
    assert.equal(progress.length, MAX_PROGRESS_LINES);
    assert.match(progress[0]!, /enviadas=\d+ total=1000$/);
    const sent = progress.map((l) => Number(/enviadas=(\d+)/.exec(l)![1]));
    assert.ok(
      sent.every((n, i) => i === 0 || n - sent[i - 1]! >= 40),
      "at least the interval apart",
    );
    assert.deepEqual(
      lines.filter((l) => l.startsWith("consulta_total:in_progress")),
      [
        "consulta_total:in_progress agencias_pendientes=2",
        "consulta_total:in_progress agencias_pendientes=1",
      ],
    );
    assert.ok(lines.includes("consulta_ganadores:success cant_ganadores=3"));
    assert.ok(lines.includes("porcentaje_ganadores:success porcentaje=0.0030"));
    assert.ok(lines.includes("consulta_total:success total_ganadores=9"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs `fn` with the path of a temporary CSV holding `text`. */
async function withCsv(text: string, fn: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "tp0-stage-" });
  try {
    const path = join(dir, "agency.csv");
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The stage's options for agency 1's file at `path`, batches of 10. */
function options(
  path: string,
  client: ReturnType<typeof fakeCentral>,
  lines: string[] = [],
) {
  return {
    id: 1,
    dataPath: path,
    batchMaxAmount: 10,
    periodMs: 1,
    client,
    log: recordingLog(lines),
    stop: new AbortController().signal,
  };
}

Deno.test("a bad line stops the agency before it sends anything", async () => {
  await withCsv("A,B,1,2000-01-01,1\nA,B,1,2000-01-01,-5\n", async (path) => {
    const central = fakeCentral([]);
    await assert.rejects(
      runLotteryStage(options(path, central)),
      /line 2: number "-5" is not a non-negative integer/,
    );
    assert.equal(central.batches.length, 0);
  });
});

Deno.test("an agency whose draw stays pending past draw.timeout fails with a clear error", async () => {
  await withCsv("A,B,1,2000-01-01,1\n", async (path) => {
    const central = fakeCentral([], Infinity);
    const lines: string[] = [];
    let clock = 0;
    await assert.rejects(
      runLotteryStage({
        ...options(path, central, lines),
        drawTimeoutMs: 5_000,
        now: () => (clock += 1_000),
      }),
      (e) =>
        e instanceof DrawTimeoutError &&
        e.message ===
          "Cannot get the draw's result: still pending after 5s (draw.timeout)",
    );
    const waits = lines.filter((l) =>
      l.startsWith("consulta_total:in_progress")
    );
    assert.ok(waits.length >= 3 && waits.length <= 5, String(waits.length));
  });
});
