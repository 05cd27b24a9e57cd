/**
 * Byte fixtures for the protocol's tests.
 *
 * @module
 */
import type { ByteSource } from "./buffered_reader.ts";

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
