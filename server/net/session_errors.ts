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
  /** @param message why */
  constructor(message: string) {
    super(message);
    this.name = "Unauthenticated";
  }
}

/** An echo line with no line feed within `MAX_ECHO_LINE` (`echo_probe.ts`). */
export class EchoLineTooLong extends RangeError {
  /** @param cause the reader's error */
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
