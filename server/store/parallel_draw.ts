/**
 * The draw's scan of bets.csv, on two threads for a large file.
 *
 * @module
 */
import type { RangeAnswer, RangeRequest } from "./draw_worker.ts";
import { scanWinners } from "./bets_csv.ts";

/**
 * Below this size (about 2.5 million rows) bets.csv is scanned on one
 * thread: the scan is short, and a worker thread (an isolate and the
 * scan's modules, while it lives) would add to the central's peak memory
 * in the scenario with the most connections for nothing.
 */
export const PARALLEL_DRAW_MIN_BYTES = 128 << 20;

/**
 * {@linkcode scanWinners} over the whole of bets.csv, the second half on a
 * worker thread while this one scans the first (a larger file: the draw
 * is the one long step the other core would otherwise watch). The same
 * result: per agency, the first half's documents, then the second's.
 */
export async function drawWinners(
  path: string,
  minBytes: number = PARALLEL_DRAW_MIN_BYTES,
): Promise<Map<number, string[]>> {
  const size = await Deno.stat(path).then(
    ({ size }) => size,
    (error) => {
      if (error instanceof Deno.errors.NotFound) return 0;
      throw error;
    },
  );
  if (size < minBytes) return await scanWinners(path);
  const middle = Math.floor(size / 2);
  const second = scanOnWorker({ path, from: middle, to: Infinity });
  // The worker's answer is awaited whatever this half does, so that no
  // thread outlives the draw.
  const [first, rest] = await Promise.allSettled([
    scanWinners(path, 0, middle),
    second,
  ]);
  if (first.status === "rejected") throw first.reason;
  if (rest.status === "rejected") throw rest.reason;
  const winners = first.value;
  for (const [agency, documents] of rest.value) {
    // concat, not push(...): an agency may have millions of winners, more
    // than a call takes arguments.
    winners.set(agency, winners.get(agency)?.concat(documents) ?? documents);
  }
  return winners;
}

/** Scans a range on a worker thread, which ends itself after answering. */
function scanOnWorker(request: RangeRequest): Promise<Map<number, string[]>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(
      new URL("./draw_worker.ts", import.meta.url).href,
      { type: "module" },
    );
    worker.onmessage = (event: MessageEvent<RangeAnswer>) => {
      worker.terminate();
      const answer = event.data;
      if ("error" in answer) {
        // A row that is not a bet is the scan's SyntaxError on either thread.
        reject(
          answer.name === "SyntaxError"
            ? new SyntaxError(answer.error)
            : new Error(`Cannot scan bets: ${answer.error}`),
        );
      } else resolve(new Map(answer.winners));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      reject(new Error(`Cannot scan bets: ${event.message}`));
    };
    worker.postMessage(request);
  });
}
