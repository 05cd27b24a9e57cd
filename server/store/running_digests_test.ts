/**
 * The running digests: a stream's hash is given only when this worker
 * hashed every stored row of it, in commit order.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { RunningDigests } from "./running_digests.ts";

const encoder = new TextEncoder();
const rows = (...lines: string[]) => encoder.encode(lines.join(""));
const sha256 = (text: string) =>
  new Uint8Array(createHash("sha256").update(text).digest());

Deno.test("the digest of the rows committed, in commit order, at the ledger's count", () => {
  const digests = new RunningDigests();
  digests.committed(1, 0, rows("1,a\n", "1,b\n"), 2);
  digests.committed(2, 0, rows("2,x\n"), 1);
  digests.committed(1, 2, rows("1,c\n"), 1);
  assert.deepEqual(digests.digest(1, 3), sha256("1,a\n1,b\n1,c\n"));
  assert.deepEqual(digests.digest(2, 1), sha256("2,x\n"));
  // The ledger counts rows this worker did not hash: read the file.
  assert.equal(digests.digest(1, 4), null);
  assert.equal(digests.digest(2, 0), null);
  // Nothing stored, nothing hashed: the empty stream.
  assert.deepEqual(digests.digest(3, 0), sha256(""));
  assert.equal(digests.digest(3, 1), null);
});

Deno.test("rows committed after a count this worker did not hash drop the stream", () => {
  const digests = new RunningDigests();
  digests.committed(1, 0, rows("1,a\n"), 1);
  // Rows 1 and 2 were committed by another worker.
  digests.committed(1, 3, rows("1,d\n"), 1);
  assert.equal(digests.digest(1, 4), null);
  assert.equal(digests.digest(1, 1), null);
  // A worker started after the agency's first rows never hashes it.
  digests.committed(2, 5, rows("2,f\n"), 1);
  assert.equal(digests.digest(2, 6), null);
  assert.equal(digests.digest(2, 1), null);
});
