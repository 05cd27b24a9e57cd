/**
 * How a session's end is told: the log line for why it ended and the
 * error reply owed to the peer, if any.
 *
 * @module
 */
import type { ActionLog } from "../../lib/log.ts";
import type { Response } from "../../protocol/messages.ts";
import { ProtocolError } from "../../protocol/protocol_error.ts";
import {
  EchoLineTooLong,
  StopRequested,
  TimeoutError,
  Unauthenticated,
  UnexpectedMessageError,
} from "./session_errors.ts";

/**
 * Logs why a session ended with `error`; returns the error reply owed to
 * the peer, if any.
 *
 * @param error what ended the session
 * @param log where the session's lines go
 * @param ip the peer's address
 * @param fail writes the fail line of a peer's fault
 */
export function endReply(
  error: unknown,
  log: ActionLog,
  ip: string,
  fail: (action: string, error: string) => void,
): Response | null {
  if (error instanceof StopRequested) return null;
  if (error instanceof Unauthenticated) {
    fail("autenticacion", error.message);
    return { kind: "error", code: "unauthenticated", message: error.message };
  }
  if (error instanceof TimeoutError || error instanceof EchoLineTooLong) {
    fail("receive_message", error.message);
    return null;
  }
  if (error instanceof ProtocolError) {
    fail("receive_message", error.message);
    const code = error instanceof UnexpectedMessageError
      ? "unexpectedMessage"
      : "malformedFrame";
    return { kind: "error", code, message: error.message };
  }
  if (
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted
  ) {
    log.warning("connection_lost", "fail", { ip, error: error.message });
    return null;
  }
  log.error("session", "fail", { ip, error: String(error) });
  return {
    kind: "error",
    code: "internal",
    message: "Cannot serve request: internal error",
  };
}
