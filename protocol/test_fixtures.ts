/**
 * Byte fixtures for the protocol's tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { BufferedReader, type ByteSource } from "./buffered_reader.ts";
import { readFrame } from "./frame.ts";
import {
  decodeMessage,
  encodeMessage,
  isKnownMessageType,
  type Message,
  type WireBet,
} from "./messages.ts";

/** A bet whose fields need CSV quoting and hold non-ASCII text. */
export const BET: WireBet = {
  firstName: "Santiago Lionel",
  lastName: 'Fornerón, "el Tano"',
  document: "30904465",
  birthdate: "1999-03-17",
  number: "7574",
};

const encoder = new TextEncoder();

/**
 * A byte source over fixed bytes that hands them out `chunk` at a time, to
 * exercise short reads in tests.
 */
export function chunkedSource(bytes: Uint8Array, chunk = 1): ByteSource {
  let offset = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      if (offset >= bytes.length) return Promise.resolve(null);
      const n = Math.min(chunk, p.length, bytes.length - offset);
      p.set(bytes.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A batch message of these bet lines (stored rows: the agency first). */
export function batch(agency: number, first: number, lines: string[]): Message {
  return {
    kind: "batch",
    agency,
    first,
    count: lines.length,
    rows: encoder.encode(lines.map((line) => `${agency},${line}\n`).join("")),
  };
}

/**
 * Encodes `message`, reads it back `chunk` bytes at a time and decodes it,
 * asserting the frame is the whole stream.
 */
export async function roundTrip(message: Message, chunk = 1): Promise<Message> {
  const reader = new BufferedReader(
    chunkedSource(encodeMessage(message), chunk),
  );
  const frame = await readFrame(reader, { isKnownType: isKnownMessageType });
  assert.ok(frame);
  const decoded = decodeMessage(frame);
  assert.equal(
    await readFrame(reader, { isKnownType: isKnownMessageType }),
    null,
  );
  return decoded;
}
