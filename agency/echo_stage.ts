/**
 * The agency's echo stage (exercises 1–4).
 *
 * @module
 */
import { Backoff } from "../lib/backoff.ts";
import type { ActionLog } from "../lib/log.ts";
import { writeAll } from "../lib/net.ts";
import { BufferedReader } from "../protocol/buffered_reader.ts";
import { type Dialer, sleep, StoppedError } from "./central_client.ts";

/** Longest echo answer read. */
const MAX_LINE = 8192;

/** What the echo stage needs. */
export interface EchoStageOptions {
  /** The agency id, for the message text and the log. */
  readonly id: number;
  /** The central's host and port. */
  readonly hostname: string;
  /** The central's port. */
  readonly port: number;
  /** `loop.amount`: how many messages. */
  readonly amount: number;
  /** `loop.period`, in milliseconds: the pause after each message. */
  readonly periodMs: number;
  /** Opens connections. */
  readonly dial: Dialer;
  /** Tries per message before giving up (`retry.attempts`). */
  readonly attempts: number;
  /** Where the course's lines go. */
  readonly log: ActionLog;
  /** Aborts the loop (SIGTERM). */
  readonly stop: AbortSignal;
}

/**
 * The skeleton's client loop: `amount` times, connect, send
 * `[CLIENT <id>] Message N°<k>` as a line, read the answer line, log it,
 * close, wait `period`; then log `loop_finished`. A connection that fails is
 * retried a few times with backoff (the central may still be starting).
 * Throws {@linkcode StoppedError} if stopped half-way.
 */
export async function runEchoStage(options: EchoStageOptions): Promise<void> {
  const { id, log, stop } = options;
  for (let k = 1; k <= options.amount; k++) {
    const text = `[CLIENT ${id}] Message N°${k}`;
    const answer = await echoOnce(options, text);
    log.info("receive_message", "success", { client_id: id, msg: answer });
    await sleep(options.periodMs, stop);
  }
  log.info("loop_finished", "success", { client_id: id });
}

async function echoOnce(
  options: EchoStageOptions,
  text: string,
): Promise<string> {
  const { stop } = options;
  const backoff = new Backoff(100, 2_000);
  for (;;) {
    if (stop.aborted) throw new StoppedError();
    let conn: Deno.Conn | null = null;
    const close = () => {
      try {
        conn?.close();
      } catch (error) {
        if (!(error instanceof Deno.errors.BadResource)) throw error;
      }
      conn = null;
    };
    stop.addEventListener("abort", close, { once: true });
    try {
      conn = await options.dial(options.hostname, options.port);
      await writeAll(conn, new TextEncoder().encode(text + "\n"));
      const line = await new BufferedReader(conn).readLine(MAX_LINE);
      if (line === null) {
        throw new Deno.errors.UnexpectedEof(
          "Cannot read echo: the server closed the connection",
        );
      }
      return new TextDecoder().decode(line).replace(/\r?\n$/, "");
    } catch (error) {
      if (stop.aborted) throw new StoppedError();
      if (
        backoff.failures + 1 >= options.attempts ||
        !(error instanceof Deno.errors.ConnectionRefused ||
          error instanceof Deno.errors.UnexpectedEof ||
          error instanceof Deno.errors.ConnectionReset)
      ) {
        options.log.error("receive_message", "fail", {
          client_id: options.id,
          error: (error as Error).message,
        });
        throw error;
      }
      await sleep(backoff.next(), stop);
    } finally {
      stop.removeEventListener("abort", close);
      close();
    }
  }
}
