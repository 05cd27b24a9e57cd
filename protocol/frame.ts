/**
 * Length-prefixed frames: the header, the size limit, reading one.
 *
 * @module
 */
import { ProtocolError, ProtocolErrorReason } from "./protocol_error.ts";

/** Bytes in a frame header: one type byte and a big-endian `u32` length. */
export const HEADER_SIZE = 5;

/**
 * Largest frame either side may send, header included (8 kB, as the
 * assignment demands of agency packets). Readers refuse anything larger
 * before allocating for it.
 */
export const MAX_FRAME_SIZE = 8192;

/** A frame as read off the wire: its type byte and its payload. */
export interface Frame {
  /** The message type byte. */
  readonly type: number;
  /**
   * The payload. Readers may return a view into a reused buffer: it is valid
   * until the next read, so decode it (or copy it) before reading again.
   */
  readonly payload: Uint8Array;
}

/**
 * The only thing the frame reader needs from a transport: exactly `n` bytes,
 * or `null` when the stream ended cleanly before the first of them. A stream
 * that ends after some but not all of the `n` bytes must throw
 * {@linkcode ProtocolError} with reason `truncated`.
 */
export interface ExactReader {
  /** Reads exactly `n` bytes; see the interface's description. */
  readExact(n: number): Promise<Uint8Array | null>;
}

/** Options for {@linkcode readFrame}. */
export interface ReadFrameOptions {
  /** Largest accepted frame, header included. Defaults to {@linkcode MAX_FRAME_SIZE}. */
  maxFrameSize?: number;
  /** Predicate for accepted type bytes; others are `unknown_type` errors. */
  isKnownType: (type: number) => boolean;
}

/**
 * Reads one frame. Returns `null` when the stream ends cleanly between
 * frames; throws {@linkcode ProtocolError} when it ends inside one, when the
 * type is unknown, or when the announced length exceeds the limit (checked
 * before the payload is read or allocated).
 */
export async function readFrame(
  reader: ExactReader,
  options: ReadFrameOptions,
): Promise<Frame | null> {
  const header = await reader.readExact(HEADER_SIZE);
  if (header === null) return null;
  return await readFrameAfterHeader(reader, header, options);
}

/**
 * Completes a frame whose header has already been read (for callers that
 * peek at the first bytes of a connection before deciding how to serve it).
 */
export async function readFrameAfterHeader(
  reader: ExactReader,
  header: Uint8Array,
  options: ReadFrameOptions,
): Promise<Frame> {
  const { type, length } = parseHeader(header, options);
  if (length === 0) return { type, payload: new Uint8Array(0) };
  const payload = await reader.readExact(length);
  if (payload === null) {
    throw new ProtocolError(
      ProtocolErrorReason.truncated,
      `Cannot read frame payload: stream ended before ${length} bytes`,
    );
  }
  return { type, payload };
}

/**
 * Validates a 5-byte header and returns its type and payload length.
 * Throws {@linkcode ProtocolError} for an unknown type or an oversized length.
 */
export function parseHeader(
  header: Uint8Array,
  options: ReadFrameOptions,
): { type: number; length: number } {
  if (header.length !== HEADER_SIZE) {
    throw new RangeError(
      `Cannot parse header: expected ${HEADER_SIZE} bytes, got ${header.length}`,
    );
  }
  const type = header[0]!;
  if (!options.isKnownType(type)) {
    throw new ProtocolError(
      ProtocolErrorReason.unknownType,
      `Cannot read frame: unknown message type 0x${hex(type)}`,
    );
  }
  const length = new DataView(header.buffer, header.byteOffset, HEADER_SIZE)
    .getUint32(1);
  const max = options.maxFrameSize ?? MAX_FRAME_SIZE;
  if (length > max - HEADER_SIZE) {
    throw new ProtocolError(
      ProtocolErrorReason.tooLarge,
      `Cannot read frame: payload of ${length} bytes exceeds the ${
        max - HEADER_SIZE
      }-byte limit`,
    );
  }
  return { type, length };
}

/**
 * Wraps a payload in a frame. Throws `RangeError` if the result would exceed
 * `maxFrameSize`.
 */
export function encodeFrame(
  type: number,
  payload: Uint8Array,
  maxFrameSize: number = MAX_FRAME_SIZE,
): Uint8Array {
  const size = HEADER_SIZE + payload.length;
  if (size > maxFrameSize) {
    throw new RangeError(
      `Cannot encode frame: ${size} bytes exceed the ${maxFrameSize}-byte limit`,
    );
  }
  const frame = new Uint8Array(size);
  frame[0] = type;
  new DataView(frame.buffer).setUint32(1, payload.length);
  frame.set(payload, HEADER_SIZE);
  return frame;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
