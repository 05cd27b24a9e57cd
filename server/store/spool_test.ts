/**
 * Tests of the spool.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Spool } from "./spool.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("a spool keeps what is appended, growing past its first size", () => {
  const spool = new Spool(4);
  assert.equal(spool.append(bytes(1, 2, 3)), 0);
  assert.equal(spool.append(bytes(4, 5, 6, 7, 8, 9)), 3);
  assert.equal(spool.used, 9);
  assert.deepEqual(spool.view(0, 9), bytes(1, 2, 3, 4, 5, 6, 7, 8, 9));
  assert.deepEqual(spool.view(3, 5), bytes(4, 5));
  const source = bytes(10, 11);
  spool.append(source);
  source.fill(0); // the spool holds a copy
  assert.deepEqual(spool.view(9, 11), bytes(10, 11));
});

Deno.test("a cleared spool starts over and refuses views past its contents", () => {
  const spool = new Spool(4);
  spool.append(bytes(1, 2, 3));
  spool.clear();
  assert.equal(spool.used, 0);
  assert.throws(() => spool.view(0, 1), RangeError);
  assert.equal(spool.append(bytes(7)), 0);
  assert.deepEqual(spool.view(0, 1), bytes(7));
  assert.throws(() => spool.view(1, 0), RangeError);
});
