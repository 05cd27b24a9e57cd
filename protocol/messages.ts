/**
 * The protocol's messages: type codes, encoders and decoders. This module
 * gathers the vocabulary (`message_types.ts`), the encoder
 * (`message_encoder.ts`) and the decoder (`message_decoder.ts`) under one
 * import; `mod.ts` names the public part.
 *
 * @module
 */
export * from "./message_types.ts";
export * from "./message_encoder.ts";
export * from "./message_decoder.ts";
