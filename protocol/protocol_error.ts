/**
 * The error for bytes that break the protocol, with its reason.
 *
 * @module
 */
/**
 * Why a frame could not be read or decoded. Every value is a condition a peer
 * can cause with bytes alone; none of them is a bug in the reader.
 */
export const ProtocolErrorReason = {
  /** The stream ended inside a frame. */
  truncated: "truncated",
  /** The header announces more bytes than the frame limit allows. */
  tooLarge: "too_large",
  /** The header names a message type this protocol does not define. */
  unknownType: "unknown_type",
  /** The payload does not have the shape its message type requires. */
  malformed: "malformed",
} as const;

/** One of the values of {@linkcode ProtocolErrorReason}. */
export type ProtocolErrorReason =
  typeof ProtocolErrorReason[keyof typeof ProtocolErrorReason];

/**
 * A peer sent bytes that break the wire protocol. The connection that carried
 * them cannot be trusted to stay in sync and should be closed after replying.
 */
export class ProtocolError extends Error {
  /** Machine-readable reason, stable across versions. */
  readonly reason: ProtocolErrorReason;

  /**
   * An error for bytes that break the protocol, with its `reason`.
   *
   * @param reason which rule the bytes broke
   * @param message a sentence of the form `Cannot <action>: <state>`
   * @param options the underlying error, if any
   */
  constructor(
    reason: ProtocolErrorReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "ProtocolError";
    this.reason = reason;
  }
}
