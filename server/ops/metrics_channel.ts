/**
 * How the supervisor asks a worker for its figures: a request line on the
 * worker's stdin (its lifeline, which otherwise carries nothing after the
 * configuration), answered by one line on its stderr (its control channel)
 * holding the worker's registry as JSON.
 *
 * @module
 */

/** The line the supervisor writes on a worker's stdin to ask for its figures. */
export const METRICS_REQUEST = "metrics";

/** How a worker's answer starts on its control channel; the JSON follows. */
export const METRICS_ANSWER = "WORKER_METRICS ";

/**
 * The worker's side: reads the lifeline's lines after the configuration
 * (`pending` is what was read past it) and answers each
 * {@linkcode METRICS_REQUEST} with `answer()`'s JSON on stderr. Resolves at
 * the end of the stream: the supervisor is gone.
 */
export async function serveLifeline(
  reader: ReadableStreamDefaultReader<string>,
  pending: string,
  answer: () => Promise<unknown>,
): Promise<void> {
  const out = new TextEncoder();
  let text = pending;
  for (;;) {
    let lf: number;
    while ((lf = text.indexOf("\n")) !== -1) {
      const line = text.slice(0, lf);
      text = text.slice(lf + 1);
      if (line !== METRICS_REQUEST) continue;
      const json = JSON.stringify(await answer());
      Deno.stderr.writeSync(out.encode(METRICS_ANSWER + json + "\n"));
    }
    const { value, done } = await reader.read();
    if (done) return;
    text += value;
  }
}

/**
 * The supervisor's side, per worker: requests in flight, answered in the
 * order they were sent (a worker answers its requests in order).
 */
export class MetricsRequests {
  readonly #waiting: ((json: string | null) => void)[] = [];

  /** Sends a request with `send` and waits for its answer (`null`: the worker ended). */
  request(send: () => Promise<void>): Promise<string | null> {
    const answer = new Promise<string | null>((resolve) =>
      this.#waiting.push(resolve)
    );
    // A worker whose stdin is closed has ended, or is ending.
    send().catch(() => this.end());
    return answer;
  }

  /**
   * Takes a control line: true (and the oldest request answered) if it is a
   * worker's answer, false for any other line.
   */
  take(line: string): boolean {
    if (!line.startsWith(METRICS_ANSWER)) return false;
    this.#waiting.shift()?.(line.slice(METRICS_ANSWER.length));
    return true;
  }

  /** The worker ended: every request still waiting gets `null`. */
  end(): void {
    for (const resolve of this.#waiting.splice(0)) resolve(null);
  }
}
