/**
 * The protocol's messages: type codes, encoders and decoders. This module
 * gathers the vocabulary (`message_types.ts`), the encoder
 * (`message_encoder.ts`) and the decoder (`message_decoder.ts`) under one
 * import.
 *
 * @module
 */
export {
  DIGEST_SIZE,
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
  type WireBet,
} from "./message_types.ts";
export { encodeMessage, splitWinners } from "./message_encoder.ts";
export { decodeMessage } from "./message_decoder.ts";
