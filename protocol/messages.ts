/**
 * The protocol's messages: type codes, encoders and decoders.
 *
 * @module
 */
import {
  encodeFrame,
  type Frame,
  HEADER_SIZE,
  MAX_FRAME_SIZE,
} from "./frame.ts";
import { ProtocolError, ProtocolErrorReason } from "./protocol_error.ts";

/**
 * Message type bytes. Every code is an ASCII control character other than
 * TAB, LF and CR, so the first byte of a connection tells a framed peer from
 * a text line (an echo probe); see `server/net/session.ts`.
 */
export const MessageType = {
  /** agency → central: one bet (exercise 5). */
  bet: 0x01,
  /** agency → central: a batch of bets (exercise 6). */
  batch: 0x02,
  /** agency → central: "I have sent everything" (exercise 7). */
  finish: 0x03,
  /** agency → central: "which of my bets won?" */
  winnersQuery: 0x04,
  /** agency → central: "how many winners nationwide?" */
  totalQuery: 0x05,
  /** agency → central: opens a connection: who it is and its whole stream. */
  hello: 0x06,
  /** agency → central: the MAC that proves it holds its key. */
  proof: 0x07,
  /** central → agency: a bet or batch or finish was accepted. */
  ack: 0x11,
  /** central → agency: some of an agency's winning documents. */
  winners: 0x12,
  /** central → agency: no draw yet; this many agencies still loading. */
  pending: 0x13,
  /** central → agency: the number of winners across all agencies. */
  total: 0x14,
  /** central → agency: the fresh nonce the proof must cover. */
  challenge: 0x15,
  /** central → agency: the proof holds; how much of the stream is stored. */
  welcome: 0x16,
  /** central → agency: the request was refused. */
  error: 0x1f,
} as const;

/** The name of a message type: a key of {@linkcode MessageType}. */
export type MessageKind = keyof typeof MessageType;

const KIND_BY_CODE: ReadonlyMap<number, MessageKind> = new Map(
  (Object.entries(MessageType) as [MessageKind, number][]).map((
    [kind, code],
  ) => [code, kind]),
);

/** True when `type` is one of the codes in {@linkcode MessageType}. */
export function isKnownMessageType(type: number): boolean {
  return KIND_BY_CODE.has(type);
}

/**
 * Error codes carried by an `error` message. The central picks one; the
 * text beside it is for people.
 */
export const ErrorCode = {
  /** The frame broke the wire format. */
  malformedFrame: 1,
  /** A bet in the bet or batch failed validation; nothing of it was stored. */
  invalidBet: 2,
  /** The agency id is outside 1…AGENCIES. */
  unknownAgency: 3,
  /** A sequence number skipped ahead of what the central has stored. */
  outOfOrder: 4,
  /** The agency already said it had finished; it cannot send more bets. */
  agencyFinished: 5,
  /** The connection asked about an agency other than its own. */
  forbidden: 6,
  /** The central is at its connection limit or shutting down. */
  busy: 7,
  /** The central failed to do what was asked (storage, KV). */
  internal: 8,
  /** A finish announced more batches than the central has stored. */
  incomplete: 9,
  /** A message that only the central sends arrived at the central. */
  unexpectedMessage: 10,
  /** The connection has not proven an agency's identity (bad or missing proof). */
  unauthenticated: 11,
  /** The hello's stream (total, digest) differs from the one the central recorded. */
  conflict: 12,
} as const;

/** The name of an error code: a key of {@linkcode ErrorCode}. */
export type ErrorCodeName = keyof typeof ErrorCode;

const ERROR_NAME_BY_CODE: ReadonlyMap<number, ErrorCodeName> = new Map(
  (Object.entries(ErrorCode) as [ErrorCodeName, number][]).map((
    [name, code],
  ) => [code, name]),
);

/**
 * A bet as it travels: five strings. The codec does not judge them; the
 * central validates them (see `lib/bet.ts`).
 */
export interface WireBet {
  /** Nombre. */
  readonly firstName: string;
  /** Apellido. */
  readonly lastName: string;
  /** Documento (DNI). */
  readonly document: string;
  /** Nacimiento, `YYYY-MM-DD`. */
  readonly birthdate: string;
  /** Número apostado. */
  readonly number: string;
}

/** Bytes in a hello's stream digest (SHA-256). */
export const DIGEST_SIZE = 32;
/** Bytes in a challenge's nonce. */
export const NONCE_SIZE = 32;
/** Bytes in a proof's MAC (HMAC-SHA256). */
export const MAC_SIZE = 32;

/** Every message of the protocol, discriminated by `kind`. */
export type Message =
  | { kind: "bet"; agency: number; bet: WireBet }
  | {
    kind: "batch";
    agency: number;
    first: number;
    count: number;
    /**
     * `count` rows as the central stores them, CSV,
     * `agency,first_name,last_name,document,birthdate,number`, each ending
     * in LF; judged by the central.
     */
    rows: Uint8Array;
  }
  | { kind: "finish"; agency: number; total: number }
  | { kind: "winnersQuery"; agency: number }
  | { kind: "totalQuery"; agency: number }
  | {
    kind: "hello";
    agency: number;
    /** Bets in the agency's whole stream. */
    total: number;
    /** SHA-256 of the whole stream as stored rows, {@linkcode DIGEST_SIZE} bytes. */
    digest: Uint8Array;
  }
  | {
    kind: "proof";
    /** HMAC-SHA256 over the challenge and the hello, {@linkcode MAC_SIZE} bytes. */
    mac: Uint8Array;
  }
  | {
    kind: "challenge";
    /** Fresh random bytes for this connection, {@linkcode NONCE_SIZE} of them. */
    nonce: Uint8Array;
  }
  | {
    kind: "welcome";
    /** Bets of the agency's stream the central holds. */
    stored: number;
  }
  | { kind: "ack"; first: number; count: number; duplicate: boolean }
  | { kind: "winners"; last: boolean; documents: string[] }
  | { kind: "pending"; pendingAgencies: number }
  | { kind: "total"; totalWinners: number }
  | {
    kind: "error";
    code: ErrorCodeName;
    message: string;
    /**
     * When to come back, in ms (a `busy` refusal); absent, and 0 on the
     * wire: no advice.
     */
    retryAfterMs?: number;
  };

/**
 * The messages an agency sends once its connection is open: each one is
 * served by a handler of the central.
 */
export type Request = Extract<
  Message,
  { kind: "bet" | "batch" | "finish" | "winnersQuery" | "totalQuery" }
>;

/**
 * The messages an agency sends to open a connection (`hello`, then
 * `proof`), before any {@linkcode Request}; the connection's session, not
 * a handler, serves them.
 */
export type Opening = Extract<Message, { kind: "hello" | "proof" }>;

/** The messages the central sends. */
export type Response = Exclude<Message, Request | Opening>;

/** True for the kinds an agency sends on an open connection. */
export function isRequest(message: Message): message is Request {
  return message.kind === "bet" || message.kind === "batch" ||
    message.kind === "finish" || message.kind === "winnersQuery" ||
    message.kind === "totalQuery";
}

/** True for the kinds an agency sends to open a connection. */
export function isOpening(message: Message): message is Opening {
  return message.kind === "hello" || message.kind === "proof";
}

const MAX_PAYLOAD = MAX_FRAME_SIZE - HEADER_SIZE;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
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

function writeBet(writer: PayloadWriter, bet: WireBet): void {
  writer.string(bet.firstName).string(bet.lastName).string(bet.document)
    .string(bet.birthdate).string(bet.number);
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
