/**
 * Decoding frames into messages: a bounded big-endian payload reader and
 * the decoder, which refuses any payload not exactly of its type's shape.
 *
 * @module
 */
import type { Frame } from "./frame.ts";
import {
  DIGEST_SIZE,
  ERROR_NAME_BY_CODE,
  KIND_BY_CODE,
  MAC_SIZE,
  type Message,
  type MessageKind,
  NONCE_SIZE,
  type WireBet,
} from "./message_types.ts";
import { ProtocolError, ProtocolErrorReason } from "./protocol_error.ts";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Sequential big-endian reader that refuses to run past its payload. */
class PayloadReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #kind: MessageKind;
  #offset = 0;

  constructor(bytes: Uint8Array, kind: MessageKind) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    this.#kind = kind;
  }
  #take(n: number): number {
    if (this.#offset + n > this.#bytes.length) {
      const short = this.#offset + n - this.#bytes.length;
      throw this.malformed(
        `payload ends ${short} ${short === 1 ? "byte" : "bytes"} short`,
      );
    }
    const at = this.#offset;
    this.#offset += n;
    return at;
  }
  malformed(state: string, cause?: unknown): ProtocolError {
    return new ProtocolError(
      ProtocolErrorReason.malformed,
      `Cannot decode ${this.#kind} message: ${state}`,
      cause === undefined ? undefined : { cause },
    );
  }
  u8(): number {
    return this.#view.getUint8(this.#take(1));
  }
  u16(): number {
    return this.#view.getUint16(this.#take(2));
  }
  u32(): number {
    return this.#view.getUint32(this.#take(4));
  }
  string(): string {
    const length = this.u16();
    const at = this.#take(length);
    try {
      return decoder.decode(this.#bytes.subarray(at, at + length));
    } catch (error) {
      throw this.malformed("a string is not valid UTF-8", error);
    }
  }
  /** The next `n` bytes, as a copy (the payload may be a reused buffer). */
  fixed(n: number): Uint8Array {
    const at = this.#take(n);
    return this.#bytes.slice(at, at + n);
  }
  /** The remaining bytes, as a view. */
  rest(): Uint8Array {
    const at = this.#take(this.#bytes.length - this.#offset);
    return this.#bytes.subarray(at);
  }
  end(): void {
    if (this.#offset !== this.#bytes.length) {
      throw this.malformed(
        `${this.#bytes.length - this.#offset} unexpected trailing bytes`,
      );
    }
  }
}

function readBet(reader: PayloadReader): WireBet {
  return {
    firstName: reader.string(),
    lastName: reader.string(),
    document: reader.string(),
    birthdate: reader.string(),
    number: reader.string(),
  };
}

/**
 * Decodes a frame into a message. Throws {@linkcode ProtocolError} when the
 * type is unknown or the payload does not have exactly the type's shape
 * (short, trailing bytes, invalid UTF-8, out-of-range flags or codes).
 */
export function decodeMessage(frame: Frame): Message {
  const kind = KIND_BY_CODE.get(frame.type);
  if (kind === undefined) {
    throw new ProtocolError(
      ProtocolErrorReason.unknownType,
      `Cannot decode message: unknown message type 0x${
        frame.type.toString(16).padStart(2, "0")
      }`,
    );
  }
  const r = new PayloadReader(frame.payload, kind);
  const message = decodePayload(kind, r);
  r.end();
  return message;
}

function decodePayload(kind: MessageKind, r: PayloadReader): Message {
  switch (kind) {
    case "bet":
      return { kind, agency: r.u32(), bet: readBet(r) };
    case "batch": {
      const agency = r.u32();
      const first = r.u32();
      const count = r.u16();
      const rows = r.rest();
      const lines = countLineEnds(rows);
      if (
        lines !== count || (rows.length > 0 && rows[rows.length - 1] !== LF)
      ) {
        throw r.malformed(
          `${count} bets announced, the rows hold ${lines} complete lines`,
        );
      }
      return { kind, agency, first, count, rows };
    }
    case "finish":
      return { kind, agency: r.u32(), total: r.u32() };
    case "winnersQuery":
    case "totalQuery":
      return { kind, agency: r.u32() };
    case "hello":
      return {
        kind,
        agency: r.u32(),
        total: r.u32(),
        digest: r.fixed(DIGEST_SIZE),
      };
    case "proof":
      return { kind, mac: r.fixed(MAC_SIZE) };
    case "challenge":
      return { kind, nonce: r.fixed(NONCE_SIZE) };
    case "welcome":
      return { kind, stored: r.u32() };
    case "ack":
      return { kind, first: r.u32(), count: r.u16(), duplicate: flag(r) };
    case "winners": {
      const last = flag(r);
      const count = r.u16();
      const documents: string[] = [];
      for (let i = 0; i < count; i++) documents.push(r.string());
      return { kind, last, documents };
    }
    case "pending":
      return { kind, pendingAgencies: r.u32() };
    case "total":
      return { kind, totalWinners: r.u32() };
    case "error": {
      const code = ERROR_NAME_BY_CODE.get(r.u8());
      if (code === undefined) throw r.malformed("unknown error code");
      const retryAfterMs = r.u32();
      const message = r.string();
      return retryAfterMs === 0
        ? { kind, code, message }
        : { kind, code, message, retryAfterMs };
    }
  }
}

const LF = 0x0a;

function countLineEnds(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(LF); i !== -1; i = bytes.indexOf(LF, i + 1)) n++;
  return n;
}

function flag(r: PayloadReader): boolean {
  const value = r.u8();
  if (value > 1) throw r.malformed(`flag byte ${value} is neither 0 nor 1`);
  return value === 1;
}
