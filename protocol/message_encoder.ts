/**
 * Encoding messages as frames: a growing big-endian payload writer, the
 * encoder, and the splitting of long winner lists into frames.
 *
 * @module
 */
import { encodeFrame, HEADER_SIZE, MAX_FRAME_SIZE } from "./frame.ts";
import {
  DIGEST_SIZE,
  ErrorCode,
  MAC_SIZE,
  type Message,
  MessageType,
  NONCE_SIZE,
  type WireBet,
} from "./message_types.ts";

const MAX_PAYLOAD = MAX_FRAME_SIZE - HEADER_SIZE;
const encoder = new TextEncoder();
const ELLIPSIS = encoder.encode("…");

/**
 * Sequential big-endian writer over a buffer that starts small (most
 * messages are a few bytes: an ack is 7) and grows up to the payload limit.
 */
class PayloadWriter {
  // Reserve before touching #bytes or #view: reserving may replace them.
  #bytes = new Uint8Array(32);
  #view = new DataView(this.#bytes.buffer);
  #offset = 0;

  #reserve(n: number): number {
    if (this.#offset + n > MAX_PAYLOAD) {
      throw new RangeError(
        `Cannot encode message: payload exceeds ${MAX_PAYLOAD} bytes`,
      );
    }
    this.#ensure(this.#offset + n);
    const at = this.#offset;
    this.#offset += n;
    return at;
  }
  /** Grows the buffer to hold `size` bytes (at most the payload limit). */
  #ensure(size: number): void {
    if (size <= this.#bytes.length) return;
    let capacity = this.#bytes.length * 2;
    while (capacity < size) capacity *= 2;
    const bytes = new Uint8Array(Math.min(capacity, MAX_PAYLOAD));
    bytes.set(this.#bytes.subarray(0, this.#offset));
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer);
  }
  u8(value: number): this {
    const at = this.#reserve(1);
    this.#view.setUint8(at, value);
    return this;
  }
  u16(value: number): this {
    const at = this.#reserve(2);
    this.#view.setUint16(at, value);
    return this;
  }
  u32(value: number): this {
    const at = this.#reserve(4);
    this.#view.setUint32(at, value);
    return this;
  }
  string(value: string): this {
    const lengthAt = this.#reserve(2);
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.#ensure(Math.min(this.#offset + value.length * 3, MAX_PAYLOAD));
    const room = this.#bytes.subarray(this.#offset);
    const { read, written } = encoder.encodeInto(value, room);
    if (read !== value.length) {
      throw new RangeError(
        `Cannot encode message: payload exceeds ${MAX_PAYLOAD} bytes`,
      );
    }
    this.#view.setUint16(lengthAt, written);
    this.#offset += written;
    return this;
  }
  /**
   * A string cut, if it must be, on a character boundary so that it fits
   * in the rest of the payload, ending with "…" when cut.
   */
  stringTruncated(value: string): this {
    const lengthAt = this.#reserve(2);
    this.#ensure(Math.min(this.#offset + value.length * 3, MAX_PAYLOAD));
    const room = this.#bytes.subarray(this.#offset);
    const whole = encoder.encodeInto(value, room);
    let written = whole.written;
    if (whole.read !== value.length) {
      const cut = room.subarray(0, room.length - ELLIPSIS.length);
      ({ written } = encoder.encodeInto(value, cut));
      this.#bytes.set(ELLIPSIS, this.#offset + written);
      written += ELLIPSIS.length;
    }
    this.#view.setUint16(lengthAt, written);
    this.#offset += written;
    return this;
  }
  bytes(value: Uint8Array): this {
    const at = this.#reserve(value.length);
    this.#bytes.set(value, at);
    return this;
  }
  get length(): number {
    return this.#offset;
  }
  frame(type: number): Uint8Array {
    return encodeFrame(type, this.#bytes.subarray(0, this.#offset));
  }
}

function writeBet(writer: PayloadWriter, bet: WireBet): void {
  writer.string(bet.firstName).string(bet.lastName).string(bet.document)
    .string(bet.birthdate).string(bet.number);
}

/**
 * Encodes a message as one complete frame. Throws `RangeError` if it does not
 * fit in {@linkcode MAX_FRAME_SIZE} bytes or a number is out of its field's
 * range, except an `error`, whose text is cut (on a character boundary,
 * ending with "…") to fit, so a refusal can always be sent; use {@linkcode BatchBuilder} and {@linkcode splitWinners} to split
 * large contents.
 */
export function encodeMessage(message: Message): Uint8Array {
  const w = new PayloadWriter();
  switch (message.kind) {
    case "bet":
      w.u32(message.agency);
      writeBet(w, message.bet);
      break;
    case "batch":
      checkU16("batch size", message.count);
      w.u32(message.agency).u32(message.first).u16(message.count)
        .bytes(message.rows);
      break;
    case "finish":
      w.u32(message.agency).u32(message.total);
      break;
    case "winnersQuery":
    case "totalQuery":
      w.u32(message.agency);
      break;
    case "hello":
      w.u32(message.agency).u32(message.total)
        .bytes(checkSize("digest", message.digest, DIGEST_SIZE));
      break;
    case "proof":
      w.bytes(checkSize("mac", message.mac, MAC_SIZE));
      break;
    case "challenge":
      w.bytes(checkSize("nonce", message.nonce, NONCE_SIZE));
      break;
    case "welcome":
      w.u32(message.stored);
      break;
    case "ack":
      checkU16("ack count", message.count);
      w.u32(message.first).u16(message.count).u8(message.duplicate ? 1 : 0);
      break;
    case "winners":
      checkU16("winner count", message.documents.length);
      w.u8(message.last ? 1 : 0).u16(message.documents.length);
      for (const document of message.documents) w.string(document);
      break;
    case "pending":
      w.u32(message.pendingAgencies);
      break;
    case "total":
      w.u32(message.totalWinners);
      break;
    case "error":
      // An error reply always fits: its text is cut to the frame.
      w.u8(ErrorCode[message.code]).u32(message.retryAfterMs ?? 0)
        .stringTruncated(message.message);
      break;
  }
  return w.frame(MessageType[message.kind]);
}

function checkSize(
  what: string,
  value: Uint8Array,
  size: number,
): Uint8Array {
  if (value.length !== size) {
    throw new RangeError(
      `Cannot encode message: ${what} of ${value.length} bytes is not ${size} bytes`,
    );
  }
  return value;
}

function checkU16(what: string, value: number): void {
  if (value > 0xffff) {
    throw new RangeError(
      `Cannot encode message: ${what} ${value} exceeds 65535`,
    );
  }
}

/**
 * Splits an agency's winning documents into as many `winners` messages as
 * needed for each to fit in one frame; the last one has `last` set. An
 * empty list gives one message.
 */
export function splitWinners(
  documents: readonly string[],
): Extract<Message, { kind: "winners" }>[] {
  const messages: Extract<Message, { kind: "winners" }>[] = [];
  let chunk: string[] = [];
  let size = HEADER_SIZE + 3;
  for (const document of documents) {
    const cost = 2 + encoder.encode(document).length;
    if (size + cost > MAX_FRAME_SIZE && chunk.length > 0) {
      messages.push({ kind: "winners", last: false, documents: chunk });
      chunk = [];
      size = HEADER_SIZE + 3;
    }
    chunk.push(document);
    size += cost;
  }
  messages.push({ kind: "winners", last: true, documents: chunk });
  return messages;
}
