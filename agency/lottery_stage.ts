/**
 * The agency's lottery stage (exercises 6 to 8): its bets in batches, the
 * finish, and the wait for its winners.
 *
 * @module
 */
import { formatDuration } from "../lib/duration.ts";
import type { ActionLog } from "../lib/log.ts";
import { encodeMessage } from "../protocol/messages.ts";
import { loadBetBatches } from "./bet_file.ts";
import { type CentralClient, sleep, StoppedError } from "./central_client.ts";
import { expectAnswer } from "./central_refused_error.ts";

/**
 * Batches an agency keeps unacknowledged at once. A window hides the round
 * trip and lets the central flush many batches with one fsync (the
 * central reads ahead only while its backlog is small, so many agencies do
 * not add up in its memory). A smaller window makes smaller groups and a
 * pipe that runs dry (measurements in docs/performance.md).
 */
export const SEND_WINDOW = 192;

/** At most this many `progreso` lines per run. */
export const MAX_PROGRESS_LINES = 20;

/**
 * Default `draw.timeout`, in ms: how long an agency waits for the draw
 * after it has finished. The last agency of a large run may finish minutes
 * after the first; ten minutes leaves room for that and still ends a run
 * whose draw will never come.
 */
export const DEFAULT_DRAW_TIMEOUT_MS = 10 * 60_000;

/** The draw was still pending when `draw.timeout` passed. */
export class DrawTimeoutError extends Error {
  /**
   * An error for a draw still pending after `timeoutMs`.
   *
   * @param timeoutMs the deadline that passed, in ms
   */
  constructor(timeoutMs: number) {
    super(
      `Cannot get the draw's result: still pending after ${
        formatDuration(timeoutMs * 1e6)
      } (draw.timeout)`,
    );
    this.name = "DrawTimeoutError";
  }
}

/** What the lottery stage needs. */
export interface LotteryStageOptions {
  /** The agency id. */
  readonly id: number;
  /** The agency's CSV. */
  readonly dataPath: string;
  /** `batch.maxAmount`. */
  readonly batchMaxAmount: number;
  /** `loop.period` in ms: the wait between queries while the draw is pending. */
  readonly periodMs: number;
  /** Talks to the central (a {@linkcode CentralClient}, or a fake in tests). */
  readonly client: Pick<CentralClient, "announce" | "request" | "sendBatches">;
  /** Longest wait for the draw after finishing, in ms (default {@linkcode DEFAULT_DRAW_TIMEOUT_MS}). */
  readonly drawTimeoutMs?: number;
  /** Batches in flight at once (default {@linkcode SEND_WINDOW}). */
  readonly window?: number;
  /** Where the course's lines go. */
  readonly log: ActionLog;
  /** Aborts waits (SIGTERM). */
  readonly stop: AbortSignal;
  /** Least time between two `progreso` lines, in ms (default 2 s). */
  readonly progressIntervalMs?: number;
  /** The clock, in ms (default `performance.now`). */
  readonly now?: () => number;
}

/** What one run of the lottery stage learned. */
export interface LotteryResult {
  /** Bets sent (and acknowledged). */
  readonly sent: number;
  /** This agency's winning documents. */
  readonly winners: readonly string[];
  /** Winners across all agencies. */
  readonly totalWinners: number;
}

/**
 * Exercises 6–8: checks the whole CSV first (a bad line stops the agency
 * before it sends anything), then streams it in batches of at most
 * `batchMaxAmount` bets and 8 kB, up to a window of them unacknowledged at
 * once; says it
 * has finished; asks for the nationwide total until the draw is made
 * (logging the partial answer), then for its own winners. Throws
 * {@linkcode DrawTimeoutError} if the draw is still pending
 * `drawTimeoutMs` after the finish.
 */
export async function runLotteryStage(
  options: LotteryStageOptions,
): Promise<LotteryResult> {
  const { id, client, log, stop } = options;
  const now = options.now ?? (() => performance.now());
  const interval = options.progressIntervalMs ?? 2_000;

  const { total, digest, batches: frames } = await loadBetBatches(
    options.dataPath,
    id,
    options.batchMaxAmount,
  );
  client.announce({ agency: id, total, digest });
  let sent = 0;
  let batches = 0;
  let progressLines = 0;
  let lastProgress = now();
  const latencies: number[] = [];
  await client.sendBatches(
    frames,
    options.window ?? SEND_WINDOW,
    (batch, latencyMs) => {
      latencies.push(latencyMs);
      sent += batch.count;
      batches++;
      const at = now();
      if (progressLines < MAX_PROGRESS_LINES && at - lastProgress >= interval) {
        progressLines++;
        lastProgress = at;
        log.info("progreso", "in_progress", { enviadas: sent, total });
      }
    },
  );
  if (stop.aborted) throw new StoppedError();
  log.info("envio_apuestas", "success", {
    client_id: id,
    apuestas: sent,
    lotes: batches,
    ack_p50_ms: percentile(latencies, 0.5).toFixed(3),
    ack_p99_ms: percentile(latencies, 0.99).toFixed(3),
  });

  expectAnswer(
    await client.request(
      encodeMessage({ kind: "finish", agency: id, total: sent }),
    ),
    "ack",
  );
  log.info("notificacion_fin", "success", { client_id: id });

  const timeoutMs = options.drawTimeoutMs ?? DEFAULT_DRAW_TIMEOUT_MS;
  const deadline = now() + timeoutMs;
  /** Waits a period before asking again, or throws once the deadline is past. */
  const waitForDraw = async () => {
    const left = deadline - now();
    if (left <= 0) throw new DrawTimeoutError(timeoutMs);
    await sleep(Math.min(options.periodMs, left), stop);
  };
  const totalQuery = encodeMessage({ kind: "totalQuery", agency: id });
  let totalWinners: number;
  for (;;) {
    const answer = expectAnswer(
      await client.request(totalQuery),
      "total",
      "pending",
    );
    if (answer.kind === "total") {
      totalWinners = answer.totalWinners;
      break;
    }
    log.info("consulta_total", "in_progress", {
      agencias_pendientes: answer.pendingAgencies,
    });
    await waitForDraw();
  }

  const winners = await queryWinners(options, waitForDraw);
  log.info("consulta_ganadores", "success", { cant_ganadores: winners.length });
  log.info("porcentaje_ganadores", "success", {
    porcentaje: (sent === 0 ? 0 : winners.length / sent).toFixed(4),
  });
  log.info("consulta_total", "success", { total_ganadores: totalWinners });
  return { sent, winners, totalWinners };
}

/** The `q` quantile of `values` (nearest rank), 0 for none. */
function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** Asks for the agency's winners, with `wait` between pending answers. */
async function queryWinners(
  options: LotteryStageOptions,
  wait: () => Promise<void>,
): Promise<string[]> {
  const frame = encodeMessage({ kind: "winnersQuery", agency: options.id });
  for (;;) {
    const responses = await options.client.request(frame);
    const first = expectAnswer(responses, "winners", "pending");
    if (first.kind === "winners") {
      return responses.flatMap((
        m,
      ) => (m.kind === "winners" ? m.documents : []));
    }
    await wait();
  }
}
