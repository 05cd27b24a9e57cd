/**
 * Tests of the central's draw over a real store in a temporary directory:
 * finish, the draw made once, held queries, and a draw with many winners.
 *
 * @module
 */
import assert from "node:assert/strict";
import { betRows } from "./store/bets_csv.ts";
import { bet, storedDigest, withLottery } from "./lottery_fixtures.ts";
import type { Lottery } from "./lottery.ts";
import type { Store } from "./store/store.ts";

/**
 * Makes the `nth` progress read of `store` (counted when asked) answer only
 * once `released` settles, with what it read when asked.
 */
function holdRead(store: Store, nth: number, released: Promise<void>): void {
  const { progress } = store;
  let reads = 0;
  store.progress = async (...args) => {
    const held = ++reads === nth;
    const read = await progress.apply(store, args);
    if (held) await released;
    return read;
  };
}

Deno.test("finish needs every announced bet, counts once, and the draw is made once", async () => {
  await withLottery(2, async (lottery, dir, log) => {
    await lottery.store(1, 0, betRows([bet(1, 0, 7574), bet(1, 1)]));
    const early = await lottery.finish(1, 3, await storedDigest(dir, 1));
    assert.equal(early.status === "refused" && early.code, "incomplete");
    assert.deepEqual(await lottery.winners(1), {
      status: "pending",
      pendingAgencies: 2,
    });
    assert.deepEqual(await lottery.finish(1, 2, await storedDigest(dir, 1)), {
      status: "finished",
      first: true,
      bets: 2,
    });
    assert.deepEqual(await lottery.finish(1, 2, await storedDigest(dir, 1)), {
      status: "finished",
      first: false,
      bets: 2,
    });
    assert.deepEqual(await lottery.total(), {
      status: "pending",
      pendingAgencies: 1,
    });
    const late = await lottery.store(1, 2, betRows([bet(1, 2)]));
    assert.equal(late.status === "refused" && late.code, "agencyFinished");
    await lottery.store(2, 0, betRows([bet(2, 5, 7574), bet(2, 6, 7574)]));
    await lottery.finish(2, 2, await storedDigest(dir, 2));
    assert.deepEqual(await lottery.winners(1), {
      status: "ready",
      documents: ["1000"],
    });
    assert.deepEqual(await lottery.winners(2), {
      status: "ready",
      documents: ["1005", "1006"],
    });
    assert.deepEqual(await lottery.total(), { status: "ready", total: 3 });
    assert.equal(log.filter((l) => l.startsWith("sorteo success")).length, 1);
    assert.equal(
      log.filter((l) => l.startsWith("agencia_finalizada")).length,
      2,
    );
    const unknown = await lottery.winners(3);
    assert.equal(unknown.status === "refused" && unknown.code, "unknownAgency");
  });
});

Deno.test("a query held for a pending draw gets the draw as soon as another worker makes it, or pending after the hold", async () => {
  await withLottery(2, async (lottery, dir, _log, another) => {
    await lottery.finish(1, 0, await storedDigest(dir, 1));
    let started = performance.now();
    assert.deepEqual(await lottery.total(200), {
      status: "pending",
      pendingAgencies: 1,
    });
    assert.ok(performance.now() - started >= 195, "held for the hold");
    // Three queries held at once; the other worker gets the last finish.
    started = performance.now();
    const held = [lottery.total(10_000), lottery.winners(1, 10_000)];
    const total = lottery.total(10_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await another().finish(2, 0, await storedDigest(dir, 2));
    assert.deepEqual(await Promise.all(held), [
      { status: "ready", total: 0 },
      { status: "ready", documents: [] },
    ]);
    assert.deepEqual(await total, { status: "ready", total: 0 });
    const waited = performance.now() - started;
    assert.ok(waited < 2_000, `answered ${waited} ms after, not at the hold`);
    // No hold: an immediate answer.
    assert.deepEqual(await another().total(), { status: "ready", total: 0 });
  });
});

Deno.test("queries answered at once share one loading of the draw in a worker", async () => {
  await withLottery(1, async (lottery, dir, _log, another) => {
    await lottery.finish(1, 0, await storedDigest(dir, 1));
    const calls = { makeDraw: 0, loadDraw: 0 };
    const spy = (store: Store) => {
      const { makeDraw, loadDraw } = store;
      store.makeDraw = (
        ...args
      ) => (calls.makeDraw++, makeDraw.apply(store, args));
      store.loadDraw = (
        ...args
      ) => (calls.loadDraw++, loadDraw.apply(store, args));
    };
    const queries = (worker: Lottery) =>
      Promise.all(Array.from({ length: 20 }, () => worker.total()));
    const ready = Array(20).fill({ status: "ready", total: 0 });
    // The last finish made the draw; each other worker loads it once.
    assert.deepEqual(await queries(another(spy)), ready);
    assert.deepEqual(calls, { makeDraw: 0, loadDraw: 1 });
    assert.deepEqual(await queries(another(spy)), ready);
    assert.deepEqual(calls, { makeDraw: 0, loadDraw: 2 });
  });
});

Deno.test("a query whose progress read outlasts the draw's loading is served the loaded draw", async () => {
  await withLottery(1, async (lottery, dir, _log, another) => {
    await lottery.finish(1, 0, await storedDigest(dir, 1));
    let loads = 0;
    let release!: () => void;
    const late = new Promise<void>((resolve) => (release = resolve));
    const worker = another((store) => {
      const { loadDraw } = store;
      store.loadDraw = (...args) => (loads++, loadDraw.apply(store, args));
      holdRead(store, 2, late);
    });
    const first = worker.ensureDraw();
    const second = worker.ensureDraw();
    const draw = await first;
    release();
    assert.strictEqual(await second, draw);
    assert.equal(loads, 1);
  });
});

Deno.test("a query whose progress read began before this worker made the draw is answered with it", async () => {
  await withLottery(1, async (_lottery, dir, _log, another) => {
    let release!: () => void;
    const late = new Promise<void>((resolve) => (release = resolve));
    // The first read (no agency finished yet) answers only once released.
    const worker = another((store) => holdRead(store, 1, late));
    const query = worker.total();
    await worker.finish(1, 0, await storedDigest(dir, 1));
    release();
    assert.deepEqual(await query, { status: "ready", total: 0 });
  });
});

Deno.test("a failed loading of the draw fails each query sharing it, and the next query loads again", async () => {
  await withLottery(1, async (lottery, dir, _log, another) => {
    await lottery.finish(1, 0, await storedDigest(dir, 1));
    let loads = 0;
    const worker = another((store) => {
      const { loadDraw } = store;
      store.loadDraw = (...args) =>
        ++loads === 1
          ? Promise.reject(new Error("Cannot read the winners: a test fault"))
          : loadDraw.apply(store, args);
    });
    const failed = await Promise.allSettled(
      Array.from({ length: 5 }, () => worker.total()),
    );
    assert.deepEqual(
      failed.map((r) => r.status === "rejected" && String(r.reason)),
      Array(5).fill("Error: Cannot read the winners: a test fault"),
    );
    assert.deepEqual(await worker.total(), { status: "ready", total: 0 });
    assert.equal(loads, 2);
  });
});

Deno.test("a draw with 500,000 winners for one agency is made and served", async () => {
  const n = 500_000;
  const step = 100_000;
  await withLottery(2, async (lottery, dir) => {
    for (let first = 0; first < n; first += step) {
      const batch = Array.from(
        { length: step },
        (_, i) => bet(1, first + i, 7574),
      );
      assert.deepEqual(await lottery.store(1, first, betRows(batch)), {
        status: "stored",
        stored: step,
        skipped: 0,
      });
    }
    assert.equal(
      (await lottery.finish(2, 0, await storedDigest(dir, 2))).status,
      "finished",
    );
    assert.equal(
      (await lottery.finish(1, n, await storedDigest(dir, 1))).status,
      "finished",
    );
    const winners = await lottery.winners(1);
    assert.equal(winners.status === "ready" && winners.documents.length, n);
    assert.deepEqual(await lottery.total(), { status: "ready", total: n });
  });
});
