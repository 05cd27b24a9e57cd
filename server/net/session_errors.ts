/**
 * Why a session ends: the errors it throws to itself, mapped to a fail line
 * and an error reply by `session.ts`.
 *
 * @module
 */
import { ProtocolError } from "../../protocol/protocol_error.ts";

/** A peer sent a message that only the central sends, or a second opening. */
export class UnexpectedMessageError extends ProtocolError {
  /**
   * An error for a `kind` message the central does not serve.
   *
   * @param kind the message's kind
   * @param why why it cannot be served
   */
  constructor(kind: string, why: string) {
    super("malformed", `Cannot serve a ${kind} message: ${why}`);
    this.name = "UnexpectedMessageError";
  }
}

/** A frame before the connection proved its agency, or a proof that does not hold. */
export class Unauthenticated extends Error {
  /**
   * An error for a frame before a valid proof, or a proof that fails.
   *
   * @param message why
   */
  constructor(message: string) {
    super(message);
    this.name = "Unauthenticated";
  }
}

/** An echo line with no line feed within `MAX_ECHO_LINE` (`echo_probe.ts`). */
export class EchoLineTooLong extends RangeError {
  /**
   * An error for an echo line past the limit.
   *
   * @param cause the reader's error
   */
  constructor(cause: RangeError) {
    super(cause.message, { cause });
    this.name = "EchoLineTooLong";
  }
}

/** The worker is stopping: the session ends without a reply. */
export class StopRequested extends Error {
  constructor() {
    super("Cannot keep serving: the worker is stopping");
    this.name = "StopRequested";
  }
}

/** The peer was silent past its deadline, or did not prove in time. */
export class TimeoutError extends Error {
  /**
   * An error for a peer silent past `ms`, or not proven by then.
   *
   * @param ms the deadline that passed
   * @param opening true before the connection proved its agency
   * @param cause the read's error
   */
  constructor(ms: number, opening: boolean, cause: unknown) {
    super(
      opening
        ? `Cannot read from peer: no proof of an agency's identity within ${ms} ms`
        : `Cannot read from peer: silent for ${ms} ms`,
      { cause },
    );
    this.name = "TimeoutError";
  }
}
