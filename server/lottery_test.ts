/**
 * Tests of the central's rules over a real store in a temporary directory.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Bet } from "../lib/bet.ts";
import type { ActionLog, Fields, Result } from "../lib/log.ts";
import { MAX_GROUP_AGENCIES } from "./store/batch_writer.ts";
import { Lottery } from "./lottery.ts";
import { Ledger } from "./store/ledger.ts";
import { Store } from "./store/store.ts";
import { LotteryState } from "./store/lottery_state.ts";
import { betRows, BETS_FILE } from "./store/bets_csv.ts";
import { StorageLock } from "./store/storage_lock.ts";
import { createHandler } from "./net/handlers.ts";
import { Pipeline } from "./outcomes.ts";
import { ResendRun } from "./net/resend_run.ts";

function recordingLog(lines: string[]): ActionLog {
  const at = (action: string, result: Result, fields: Fields = {}) =>
    lines.push(
      [action, result, ...Object.entries(fields).map(([k, v]) => `${k}=${v}`)]
        .join(" "),
    );
  return { debug: at, info: at, warning: at, error: at };
}

const bet = (agency: number, i: number, number = i) =>
  new Bet(agency, "Ana", "Díaz", String(1000 + i), "1990-01-01", number);

/** A proven connection of agency 1 (a stream of 10 bets), logging to `log`. */
function testPeer(log: string[]) {
  return {
    ip: "127.0.0.1",
    agency: 1,
    total: 10,
    digest: new Uint8Array(32),
    pipeline: new Pipeline(),
    resends: new ResendRun(recordingLog(log), 1),
  };
}

async function withLottery(
  agencies: number,
  fn: (
    lottery: Lottery,
    dir: string,
    log: string[],
    /** Another lottery on the same storage: the other worker. */
    another: () => Lottery,
  ) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "tp0-lottery-unit-" });
  try {
    using lock = StorageLock.open(join(dir, "central.lock"));
    using state = await LotteryState.open(join(dir, "central.kv"));
    using ledger = Ledger.open(join(dir, "ledger.bin"));
    using betsFile = await Deno.open(join(dir, BETS_FILE), {
      append: true,
      create: true,
    });
    const lines: string[] = [];
    const make = () =>
      new Lottery({
        store: new Store({
          lock,
          state,
          ledger,
          betsFile,
          storageDir: dir,
          log: recordingLog(lines),
        }),
        agencies,
        log: recordingLog(lines),
      });
    await fn(make(), dir, lines, make);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** SHA-256 of the rows of `agency` stored in `dir`'s bets.csv: its stream's digest. */
async function storedDigest(dir: string, agency: number): Promise<Uint8Array> {
  const text = (await rows(dir)).filter((r) => r.startsWith(`${agency},`))
    .map((r) => r + "\n").join("");
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
}

const rows = async (dir: string) =>
  (await Deno.readTextFile(join(dir, BETS_FILE))).split("\n").filter((l) =>
    l !== ""
  );

Deno.test("resends are skipped whatever their batch size; gaps are refused", async () => {
  await withLottery(2, async (lottery, dir) => {
    const stream = Array.from({ length: 10 }, (_, i) => bet(1, i));
    assert.deepEqual(await lottery.store(1, 0, betRows(stream.slice(0, 4))), {
      status: "stored",
      stored: 4,
      skipped: 0,
    });
    assert.deepEqual(await lottery.store(1, 0, betRows(stream.slice(0, 3))), {
      status: "duplicate",
      skipped: 3,
    });
    assert.deepEqual(await lottery.store(1, 2, betRows(stream.slice(2, 7))), {
      status: "stored",
      stored: 3,
      skipped: 2,
    });
    const gap = await lottery.store(1, 9, betRows(stream.slice(9)));
    assert.equal(gap.status === "refused" && gap.code, "outOfOrder");
    await lottery.store(1, 7, betRows(stream.slice(7)));
    assert.deepEqual(
      (await rows(dir)).map((r) => r.split(",")[3]),
      stream.map((b) => b.document),
    );
  });
});

Deno.test("nothing a connection sent after a refusal is stored, in the same group or later", async () => {
  await withLottery(1, async (lottery, dir, log) => {
    const handler = createHandler(lottery, recordingLog(log));
    const encoder = new TextEncoder();
    const batch = (first: number, count: number, document = "") => ({
      kind: "batch" as const,
      agency: 1,
      first,
      count,
      rows: encoder.encode(
        Array.from(
          { length: count },
          (_, i) =>
            `1,Ana,Díaz,${document || 2000 + first + i},1990-01-01,${i}\n`,
        ).join(""),
      ),
    });
    const peer = () => testPeer(log);
    // A gap, then batches from the right position, all read before the
    // gap's group was committed: the one pipeline is what they share.
    const gapped = peer();
    const afterGap = await Promise.all([
      handler(batch(5, 2), gapped),
      handler(batch(0, 2), gapped),
      handler(batch(2, 2), gapped),
    ]);
    assert.equal(afterGap[0]!.close, true);
    assert.equal(
      afterGap[0]!.messages[0]?.kind === "error" &&
        afterGap[0]!.messages[0].code,
      "outOfOrder",
    );
    assert.deepEqual(afterGap.slice(1), [
      { messages: [], close: true },
      { messages: [], close: true },
    ]);
    // An invalid batch (a document that is not a number), then a valid one.
    const invalid = peer();
    const afterInvalid = await Promise.all([
      handler(batch(0, 1, "not-a-dni"), invalid),
      handler(batch(0, 2), invalid),
      handler({
        kind: "bet",
        agency: 1,
        bet: {
          firstName: "Ana",
          lastName: "Díaz",
          document: "30904465",
          birthdate: "1999-03-17",
          number: "7574",
        },
      }, invalid),
    ]);
    assert.equal(
      afterInvalid[0]!.messages[0]?.kind === "error" &&
        afterInvalid[0]!.messages[0].code,
      "invalidBet",
    );
    assert.deepEqual(afterInvalid.slice(1), [
      { messages: [], close: true },
      { messages: [], close: true },
    ]);
    assert.deepEqual(await rows(dir).catch(() => []), []);
    // Another connection of the agency is not held to them.
    const ack = await handler(batch(0, 2), peer());
    assert.equal(ack.messages[0]?.kind, "ack");
    assert.equal((await rows(dir)).length, 2);
  });
});

Deno.test("a run of resent batches is one apuestas_duplicadas line, at its end", async () => {
  await withLottery(1, async (lottery, _dir, log) => {
    const handler = createHandler(lottery, recordingLog(log));
    const encoder = new TextEncoder();
    const batch = (first: number) => ({
      kind: "batch" as const,
      agency: 1,
      first,
      count: 1,
      rows: encoder.encode(`1,Ana,Díaz,${2000 + first},1990-01-01,1\n`),
    });
    const lines = () => log.filter((l) => l.startsWith("apuestas_duplicadas"));
    const peer = testPeer(log);
    await handler(batch(0), peer);
    await handler(batch(1), peer);
    for (let k = 0; k < 500; k++) {
      const reply = await handler(batch(k % 2), peer);
      assert.equal(
        reply.messages[0]?.kind === "ack" && reply.messages[0].duplicate,
        true,
      );
    }
    assert.deepEqual(lines(), []);
    // A fresh bet ends the run: one line for the 500 resends.
    await handler(batch(2), peer);
    assert.deepEqual(lines(), [
      "apuestas_duplicadas success agencia=1 cantidad=500 envios=500",
    ]);
    // Another run, ended by the connection's close.
    for (let k = 0; k < 3; k++) await handler(batch(k), peer);
    assert.equal(lines().length, 1);
    peer.resends.end();
    peer.resends.end();
    assert.deepEqual(lines().slice(1), [
      "apuestas_duplicadas success agencia=1 cantidad=3 envios=3",
    ]);
  });
});

Deno.test("the single bet is bet 0 of a stream of 1: sent again, it is a duplicate", async () => {
  await withLottery(1, async (lottery, dir) => {
    const single = betRows([bet(1, 100)]);
    assert.deepEqual(await lottery.store(1, 0, single), {
      status: "stored",
      stored: 1,
      skipped: 0,
    });
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(await lottery.store(1, 0, betRows([bet(1, 100)])), {
        status: "duplicate",
        skipped: 1,
      });
    }
    assert.equal((await rows(dir)).length, 1);
    assert.equal(
      (await lottery.finish(1, 1, await storedDigest(dir, 1))).status,
      "finished",
    );
  });
});

Deno.test("an agency's first stream is kept: the same one is welcome again, another is a conflict", async () => {
  await withLottery(2, async (lottery, _dir, _log, another) => {
    const digest = new Uint8Array(32).fill(0xab);
    assert.deepEqual(await lottery.open(1, 3, digest), {
      status: "open",
      stored: 0,
    });
    // The stream is recorded with the first bets stored of it.
    await lottery.store(1, 0, betRows([bet(1, 0), bet(1, 1)]), new Pipeline(), {
      total: 3,
      digest,
    });
    // The agency again (a resend, or started afresh on the same file), in
    // another worker: welcome, with what is stored.
    const other = another();
    assert.deepEqual(await other.open(1, 3, digest.slice()), {
      status: "open",
      stored: 2,
    });
    const changed = digest.slice();
    changed[31] = 0;
    for (const [total, d] of [[3, changed], [4, digest]] as const) {
      const refused = await other.open(1, total, d);
      assert.equal(refused.status === "refused" && refused.code, "conflict");
      assert.match(
        refused.status === "refused" ? refused.reason : "",
        /Cannot open agency 1's stream: it announces \d bets with digest [0-9a-f]{16}…, the central holds a stream of 3 bets with digest abababababababab… for it \(a different file under the same id\)/,
      );
    }
    // Agency 2 has a stream of its own.
    assert.equal((await lottery.open(2, 4, changed)).status, "open");
    const unknown = await lottery.open(3, 1, digest);
    assert.equal(unknown.status === "refused" && unknown.code, "unknownAgency");
  });
});

Deno.test("a hello costs no ledger write: a stream is recorded with its first stored bets, and the first one stored wins", async () => {
  await withLottery(2, async (lottery, dir) => {
    const ledger = join(dir, "ledger.bin");
    const size = async () => (await Deno.stat(ledger)).size;
    const a = { total: 2, digest: new Uint8Array(32).fill(1) };
    const b = { total: 2, digest: new Uint8Array(32).fill(2) };
    const before = await size();
    // Two connections of agency 1 with different files, before any bet.
    assert.equal((await lottery.open(1, a.total, a.digest)).status, "open");
    assert.equal((await lottery.open(1, b.total, b.digest)).status, "open");
    assert.equal(await size(), before, "no ledger write for a hello");
    const stored = await lottery.store(
      1,
      0,
      betRows([bet(1, 0)]),
      new Pipeline(),
      a,
    );
    assert.equal(stored.status, "stored");
    const other = await lottery.store(
      1,
      0,
      betRows([bet(1, 0, 9)]),
      new Pipeline(),
      b,
    );
    assert.equal(other.status === "refused" && other.code, "conflict");
    const again = await lottery.open(1, b.total, b.digest);
    assert.equal(again.status === "refused" && again.code, "conflict");
  });
});

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

Deno.test("bytes past the committed size (a dead writer's batch) are cut before the next write", async () => {
  await withLottery(1, async (lottery, dir) => {
    await lottery.store(1, 0, betRows([bet(1, 0)]));
    await Deno.writeTextFile(
      join(dir, BETS_FILE),
      "1,Half,Written,99,1990-01-01,1\n",
      {
        append: true,
      },
    );
    await lottery.store(1, 1, betRows([bet(1, 1)]));
    assert.deepEqual((await rows(dir)).map((r) => r.split(",")[3]), [
      "1000",
      "1001",
    ]);
  });
});

Deno.test("batches of more agencies than one group takes are all stored, each exactly once, in order", async () => {
  const agencies = MAX_GROUP_AGENCIES * 2 + 7;
  await withLottery(agencies, async (lottery, dir) => {
    // The first store starts a group at once; the rest queue behind it and
    // are split into groups of MAX_GROUP_AGENCIES agencies.
    const outcomes = await Promise.all(
      Array.from(
        { length: agencies },
        (_, k) =>
          lottery.store(k + 1, 0, betRows([bet(k + 1, 0), bet(k + 1, 1)])),
      ),
    );
    for (const outcome of outcomes) {
      assert.deepEqual(outcome, { status: "stored", stored: 2, skipped: 0 });
    }
    const stored = await rows(dir);
    assert.equal(stored.length, agencies * 2);
    assert.deepEqual(
      stored.map((r) => r.split(",").slice(0, 4).join(",")),
      Array.from(
        { length: agencies },
        (_, k) => [`${k + 1},Ana,Díaz,1000`, `${k + 1},Ana,Díaz,1001`],
      ).flat(),
    );
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
