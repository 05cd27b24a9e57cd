/**
 * The protocol's message vocabulary: the type and error code tables, the
 * message shapes as a discriminated union, and the predicates over them.
 *
 * @module
 */

/**
 * Message type bytes. Every code is an ASCII control character other than
 * TAB, LF and CR, so the first byte of a connection tells a framed peer from
 * a text line (an echo probe); see `server/net/echo_probe.ts`.
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

/** Message kind by type code; the decoder's lookup. */
export const KIND_BY_CODE: ReadonlyMap<number, MessageKind> = byCode(
  MessageType,
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

/** Error code name by its byte; the decoder's lookup. */
export const ERROR_NAME_BY_CODE: ReadonlyMap<number, ErrorCodeName> = byCode(
  ErrorCode,
);

/** A code table turned around: each name by its code. */
function byCode<Name extends string>(
  table: Readonly<Record<Name, number>>,
): ReadonlyMap<number, Name> {
  return new Map(
    (Object.entries(table) as [Name, number][]).map((
      [name, code],
    ) => [code, name]),
  );
}

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
