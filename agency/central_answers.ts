/**
 * The central's answers as the agency reads them, and which failures are
 * worth sending a request again for.
 *
 * @module
 */
import type { BufferedReader } from "../protocol/buffered_reader.ts";
import { readFrame } from "../protocol/frame.ts";
import {
  decodeMessage,
  isKnownMessageType,
  isOpening,
  isRequest,
  type Response,
} from "../protocol/messages.ts";
import { ProtocolError } from "../protocol/protocol_error.ts";

/**
 * Reads one message from the central: throws {@linkcode TransientRefusal}
 * for a refusal worth retrying, {@linkcode ProtocolError} for a message
 * only agencies send, `UnexpectedEof` when the central hangs up.
 */
export async function readResponse(reader: BufferedReader): Promise<Response> {
  const incoming = await readFrame(reader, { isKnownType: isKnownMessageType });
  if (incoming === null) {
    throw new Deno.errors.UnexpectedEof(
      "Cannot read answer: the central closed the connection",
    );
  }
  const message = decodeMessage(incoming);
  if (isRequest(message) || isOpening(message)) {
    throw new ProtocolError(
      "malformed",
      `Cannot accept a ${message.kind} message from the central`,
    );
  }
  if (message.kind === "error" && TRANSIENT.has(message.code)) {
    throw new TransientRefusal(message);
  }
  return message;
}

/**
 * Refusals that say nothing about the request itself: the central failed
 * (`internal`: it stored nothing of it) or is full (`busy`). The request is
 * sent again like after a network error.
 */
const TRANSIENT: ReadonlySet<string> = new Set(["internal", "busy"]);

/** A refusal worth retrying: `internal` or `busy`. */
export class TransientRefusal extends Error {
  /** When the central said to come back, in ms; 0: it did not say. */
  readonly retryAfterMs: number;

  /**
   * Wraps the central's `internal` or `busy` answer.
   *
   * @param refusal the central's error answer
   */
  constructor(refusal: Extract<Response, { kind: "error" }>) {
    super(`the central answered ${refusal.code}: ${refusal.message}`);
    this.name = "TransientRefusal";
    this.retryAfterMs = refusal.retryAfterMs ?? 0;
  }
}

/** Errors after which the request may be sent again on a new connection. */
export function isNetworkError(error: unknown): boolean {
  if (error instanceof TransientRefusal) return true;
  if (error instanceof ProtocolError) return error.reason === "truncated";
  return error instanceof Deno.errors.ConnectionRefused ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.TimedOut ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted ||
    error instanceof Deno.errors.AddrNotAvailable ||
    error instanceof Deno.errors.NetworkUnreachable ||
    // DNS: in Docker the central's name may not resolve until it starts.
    (error instanceof Error &&
      /failed to lookup address|name resolution/i.test(error.message));
}
