/**
 * Tests of CRC-32.
 *
 * @module
 */
import assert from "node:assert/strict";
import { crc32 } from "./crc32.ts";

Deno.test("crc32 matches the standard check values", () => {
  const text = (s: string) => new TextEncoder().encode(s);
  assert.equal(crc32(text("")), 0);
  assert.equal(crc32(text("123456789")), 0xcbf43926);
  assert.equal(
    crc32(text("The quick brown fox jumps over the lazy dog")),
    0x414fa339,
  );
});
