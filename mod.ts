/**
 * The public surface of the Lotería Nacional project as a library: the wire
 * codec both roles speak and the domain's bet type. The central and the
 * agency themselves are programs (`server/main.ts`, `agency/main.ts`).
 *
 * @module
 */
export {
  type ExactReader,
  type Frame,
  HEADER_SIZE,
  MAX_FRAME_SIZE,
  readFrame,
  type ReadFrameOptions,
} from "./protocol/frame.ts";
export { BufferedReader, type ByteSource } from "./protocol/buffered_reader.ts";
export { BatchBuilder } from "./protocol/batch_builder.ts";
export {
  decodeMessage,
  DIGEST_SIZE,
  encodeMessage,
  ErrorCode,
  type ErrorCodeName,
  isKnownMessageType,
  isOpening,
  isRequest,
  MAC_SIZE,
  type Message,
  type MessageKind,
  MessageType,
  NONCE_SIZE,
  type Opening,
  type Request,
  type Response,
  splitWinners,
  type WireBet,
} from "./protocol/messages.ts";
export {
  ProtocolError,
  ProtocolErrorReason,
} from "./protocol/protocol_error.ts";
export { Bet, hasWon, LOTTERY_WINNER_NUMBER } from "./lib/bet.ts";
