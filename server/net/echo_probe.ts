/**
 * The echo probe path of a connection: a first byte that cannot start a
 * frame (text, as netcat sends) makes the connection an echo of one line.
 *
 * @module
 */
import type { ActionLog } from "../../lib/log.ts";
import type { BufferedReader } from "../../protocol/buffered_reader.ts";
import { MAX_FRAME_SIZE } from "../../protocol/frame.ts";
import type { LineBudget } from "./failure_log.ts";
import type { ReplyQueue } from "./reply_queue.ts";
import { EchoLineTooLong } from "./session_errors.ts";

/** Longest echo line served (the skeleton's messages are far shorter). */
export const MAX_ECHO_LINE: number = MAX_FRAME_SIZE;

/** Characters of an echo line its log line quotes; the rest is counted. */
export const ECHO_QUOTED = 200;
/**
 * Echo lines a worker logs whole per window (10 s); the rest are counted
 * and summed up in one line a window. Generous for the course's echo test
 * (5 clients × 5 messages in a few seconds) and for students who run more.
 */
export const ECHO_LINES = 200;

/**
 * True when the first byte of a connection starts a frame: every message
 * type is an ASCII control byte other than TAB, LF and CR. Anything else
 * (text, as netcat sends) is served as an echo line.
 */
export function startsFrame(firstByte: number): boolean {
  return firstByte < 0x20 && firstByte !== 0x09 && firstByte !== 0x0a &&
    firstByte !== 0x0d;
}

/**
 * Serves an echo probe: reads one line (through `wait`, which arms the
 * session's deadline), writes it back, and logs it once it was sent.
 *
 * @param reader the connection's reader, at the line's first byte
 * @param replies the session's reply queue
 * @param wait runs a read under the session's idle deadline
 * @param log where the received line is logged
 * @param ip the peer's address
 * @param budget the worker's budget of echo lines (default: log every line)
 */
export async function serveEcho(
  reader: BufferedReader,
  replies: ReplyQueue,
  wait: (
    read: () => Promise<Uint8Array | null>,
  ) => Promise<Uint8Array | null>,
  log: ActionLog,
  ip: string,
  budget?: LineBudget,
): Promise<void> {
  const line = await wait(async () => {
    try {
      return await reader.readLine(MAX_ECHO_LINE);
    } catch (error) {
      if (error instanceof RangeError) throw new EchoLineTooLong(error);
      throw error;
    }
  });
  if (line === null) return;
  replies.pushBytes(line);
  await replies.idle();
  if (replies.closing) return;
  const text = new TextDecoder().decode(line).replace(/\r?\n$/, "");
  const msg = quoted(text, line.length);
  if (budget === undefined || budget.take(ip, msg)) {
    log.info("receive_message", "success", { ip, msg });
  }
}

/** The line's text up to {@linkcode ECHO_QUOTED} characters, then its size. */
function quoted(text: string, bytes: number): string {
  if (text.length <= ECHO_QUOTED) return text;
  return `${text.slice(0, ECHO_QUOTED)}…(${bytes} bytes)`;
}
