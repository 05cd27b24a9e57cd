/**
 * The error of a request the central refused, and the check of an answer's
 * kind.
 *
 * @module
 */
import type { ErrorCodeName, Response } from "../protocol/messages.ts";
import { ProtocolError } from "../protocol/protocol_error.ts";

/** The central answered a request with an error code. */
export class CentralRefusedError extends Error {
  /** The protocol's error code. */
  readonly code: ErrorCodeName;
  /** The central's explanation. */
  readonly reason: string;

  /**
   * The central's error answer, as an error.
   *
   * @param code the error code the central sent
   * @param message the central's explanation
   */
  constructor(code: ErrorCodeName, message: string) {
    super(`Cannot continue: the central refused with ${code}: ${message}`);
    this.name = "CentralRefusedError";
    this.code = code;
    this.reason = message;
  }
}

/**
 * Returns the one answer of the expected kinds, throws
 * {@linkcode CentralRefusedError} for an error answer and
 * {@linkcode ProtocolError} for anything else.
 */
export function expectAnswer<K extends Response["kind"]>(
  responses: readonly Response[],
  ...kinds: K[]
): Extract<Response, { kind: K }> {
  const [first] = responses;
  if (first?.kind === "error") {
    throw new CentralRefusedError(first.code, first.message);
  }
  if (first === undefined || !(kinds as string[]).includes(first.kind)) {
    throw new ProtocolError(
      "malformed",
      `Cannot use the central's answer: expected ${kinds.join(" or ")}, got ${
        first?.kind ?? "nothing"
      }`,
    );
  }
  return first as Extract<Response, { kind: K }>;
}
