/**
 * Tests of the budget of unproven connections.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Admission } from "./admission.ts";

Deno.test("per address, then per worker; past the grace the oldest is evicted, else the newcomer refused", () => {
  let now = 0;
  const admission = new Admission<string>(
    { perWorker: 3, perAddress: 2, graceMs: 100 },
    () => now,
  );
  const enter = (item: string, ip: string) => {
    const room = admission.room(ip);
    if (room.admit) {
      if (room.evict !== null) admission.delete(room.evict);
      admission.add(item, ip);
    }
    return room;
  };
  assert.deepEqual(enter("a1", "A"), { admit: true, evict: null });
  assert.deepEqual(enter("a2", "A"), { admit: true, evict: null });
  // A's budget is spent and its connections are within their grace.
  assert.deepEqual(enter("a3", "A"), {
    admit: false,
    reason:
      "2 connections from A have not proven an agency, the limit per address is 2",
  });
  assert.deepEqual(enter("b1", "B"), { admit: true, evict: null });
  assert.equal(admission.size, 3);
  now = 100;
  // Past the grace, A's oldest makes room for A's newcomer.
  assert.deepEqual(enter("a3", "A"), { admit: true, evict: "a1" });
  // The worker is full: C's newcomer evicts from the address holding most.
  assert.deepEqual(enter("c1", "C"), { admit: true, evict: "a2" });
  assert.equal(admission.size, 3);
  // Proven or ended connections free their place; deleting twice is harmless.
  admission.delete("b1");
  admission.delete("b1");
  assert.deepEqual(admission.room("B"), { admit: true, evict: null });
  assert.equal(admission.size, 2);
});

Deno.test("short of descriptors, the budget is halved for good and the oldest past it returned", () => {
  const admission = new Admission<string>(
    { perWorker: 8, perAddress: 8, graceMs: 0 },
    () => 0,
  );
  for (const item of ["a", "b", "c", "d", "e", "f"]) admission.add(item, "A");
  assert.deepEqual(admission.shrink(), ["a", "b"]);
  for (const item of ["a", "b"]) admission.delete(item);
  // Four held, the budget now 4 (half of 6, at least 4), 2 per address:
  // a newcomer makes room by evicting the oldest.
  assert.deepEqual(admission.room("B"), { admit: true, evict: "c" });
  assert.deepEqual(admission.room("A"), { admit: true, evict: "c" });
  assert.deepEqual(admission.shrink(), []);
});
