/**
 * Tests of the ledger file.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Ledger } from "./ledger.ts";
import { ledgerKey } from "./ledger_mac.ts";
import { withTempPath } from "./temp_path_fixture.ts";

const KEY = ledgerKey("a test secret");

Deno.test("a worker sees what another committed once it refreshes", async () => {
  await withTempPath("ledger.bin", async (path) => {
    using a = Ledger.open(path, KEY);
    using b = Ledger.open(path, KEY);
    a.refresh();
    await a.commit(
      new Map([[3, { bets: 160, singles: 1, finished: false }]]),
      8_000,
    );
    assert.deepEqual(a.record(3), { bets: 160, singles: 1, finished: false });
    assert.deepEqual(b.record(3), { bets: 0, singles: 0, finished: false });
    b.refresh();
    assert.deepEqual(b.record(3), { bets: 160, singles: 1, finished: false });
    assert.equal(b.betsSize, 8_000);
    await b.commit(
      new Map([[3, { bets: 160, singles: 1, finished: true }], [
        4,
        { bets: 5, singles: 0, finished: false },
      ]]),
      8_250,
    );
    a.refresh();
    assert.deepEqual(a.record(3), { bets: 160, singles: 1, finished: true });
    assert.equal(a.betsSize, 8_250);
    assert.deepEqual(a.record(4), { bets: 5, singles: 0, finished: false });
    // A fresh reader replays the whole file.
    using c = Ledger.open(path, KEY);
    c.refresh();
    assert.equal(c.betsSize, 8_250);
    assert.deepEqual(c.record(3), { bets: 160, singles: 1, finished: true });
  });
});

Deno.test("an agency's first stream is kept, across workers and reopening", async () => {
  await withTempPath("ledger.bin", async (path) => {
    using a = Ledger.open(path, KEY);
    using b = Ledger.open(path, KEY);
    const first = { total: 100, digest: new Uint8Array(32).fill(1) };
    a.refresh();
    assert.equal(a.stream(3), null);
    await a.commit(
      new Map([[3, { bets: 50, singles: 0, finished: false }]]),
      900,
      new Map([[3, first]]),
    );
    assert.deepEqual(a.stream(3), first);
    b.refresh();
    assert.deepEqual(b.stream(3), first);
    assert.equal(b.stream(4), null);
    // A second record for the agency (no caller writes one) changes nothing.
    await b.commit(
      new Map([[3, { bets: 50, singles: 0, finished: false }]]),
      900,
      new Map([[3, { total: 7, digest: new Uint8Array(32) }]]),
    );
    assert.deepEqual(b.stream(3), first);
    using c = Ledger.open(path, KEY);
    c.refresh();
    assert.deepEqual(c.stream(3), first);
    assert.equal(c.record(3).bets, 50);
    assert.equal(c.betsSize, 900);
  });
});

Deno.test("a torn last record is cut off; a shrunk ledger is refused", async () => {
  await withTempPath("ledger.bin", async (path) => {
    {
      using a = Ledger.open(path, KEY);
      a.refresh();
      await a.commit(
        new Map([[1, { bets: 2, singles: 0, finished: false }]]),
        90,
      );
    }
    const whole = (await Deno.stat(path)).size;
    // A writer that died half-way through its record.
    await Deno.writeFile(path, new Uint8Array([0x54, 0x4c, 0x47, 0x33, 0, 0]), {
      append: true,
    });
    using b = Ledger.open(path, KEY);
    b.refresh();
    assert.equal(b.betsSize, 90);
    assert.equal((await Deno.stat(path)).size, whole);
    await b.commit(
      new Map([[1, { bets: 2, singles: 0, finished: true }]]),
      120,
    );
    using c = Ledger.open(path, KEY);
    c.refresh();
    assert.equal(c.betsSize, 120);
    await Deno.truncate(path, whole);
    assert.throws(() => b.refresh(), /holds \d+ bytes, \d+ were read before/);
    b[Symbol.dispose]();
    b[Symbol.dispose]();
    assert.throws(() => b.refresh(), Deno.errors.BadResource);
  });
});
