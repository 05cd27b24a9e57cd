/**
 * The storage contract: the guarantees the rules rely on, checked through
 * the rules ({@linkcode Lottery}) against both backends, the file store and
 * PostgreSQL (a throwaway cluster of its own, run as the `postgres` user
 * when the tests run as root). Each case runs on fresh storage; "another
 * central" is another set of handles, or another database client.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Bet } from "../lib/bet.ts";
import type { ActionLog, Fields, Result } from "../lib/log.ts";
import { Lottery } from "../server/lottery.ts";
import { Pipeline } from "../server/outcomes.ts";
import { betRows } from "../server/store/bets_csv.ts";
import {
  type BackendFixture,
  fileFixture,
  postgresFixture,
  type Storage,
} from "./storage_backends.ts";

function recordingLog(lines: string[]): ActionLog {
  const at = (action: string, result: Result, fields: Fields = {}) =>
    lines.push(
      [action, result, ...Object.entries(fields).map(([k, v]) => `${k}=${v}`)]
        .join(" "),
    );
  return { debug: at, info: at, warning: at, error: at };
}

/** Agency `agency`'s bet `i`; every 7th wins. */
const bet = (agency: number, i: number) =>
  new Bet(
    agency,
    "Ana",
    "Díaz",
    String(agency * 100_000 + i),
    "1990-01-01",
    i % 7 === 0 ? 7574 : 1000 + i,
  );

const stream = (agency: number, n: number) =>
  Array.from({ length: n }, (_, i) => bet(agency, i));

async function digestOf(bets: readonly Bet[]): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.digest(
      "SHA-256",
      betRows(bets).bytes as Uint8Array<ArrayBuffer>,
    ),
  );
}

/** A central: the rules over a new backend of `storage`. */
async function central(
  storage: Storage,
  agencies: number,
  lines: string[],
): Promise<Lottery> {
  const log = recordingLog(lines);
  const lottery = new Lottery({
    store: await storage.central(log),
    agencies,
    log,
  });
  await lottery.recover();
  return lottery;
}

type Case = (storage: Storage) => Promise<void>;

const CASES: Record<string, Case> = {
  "each bet is stored once per (agency, position) under resends; acknowledged means committed":
    async (storage) => {
      const lines: string[] = [];
      const a = await central(storage, 2, lines);
      const bets = stream(1, 10);
      const id = { total: 10, digest: await digestOf(bets) };
      assert.deepEqual(await a.open(1, id.total, id.digest), {
        status: "open",
        stored: 0,
      });
      assert.deepEqual(
        await a.store(1, 0, betRows(bets.slice(0, 5)), new Pipeline(), id),
        {
          status: "stored",
          stored: 5,
          skipped: 0,
        },
      );
      assert.deepEqual(
        await a.store(1, 0, betRows(bets.slice(0, 5)), new Pipeline(), id),
        {
          status: "duplicate",
          skipped: 5,
        },
      );
      assert.deepEqual(
        await a.store(1, 3, betRows(bets.slice(3, 8)), new Pipeline(), id),
        {
          status: "stored",
          stored: 3,
          skipped: 2,
        },
      );
      const gap = await a.store(
        1,
        9,
        betRows(bets.slice(9)),
        new Pipeline(),
        id,
      );
      assert.equal(gap.status === "refused" && gap.code, "outOfOrder");
      // Another central sees every acknowledged bet at once.
      const b = await central(storage, 2, lines);
      assert.deepEqual(await b.open(1, id.total, id.digest), {
        status: "open",
        stored: 8,
      });
      assert.deepEqual(
        await b.store(1, 6, betRows(bets.slice(6)), new Pipeline(), id),
        {
          status: "stored",
          stored: 2,
          skipped: 2,
        },
      );
      assert.equal((await a.finish(1, 10, id.digest)).status, "finished");
    },

  "a batch's bytes may be reused once it is handed over (a reader's buffer)":
    async (storage) => {
      const lines: string[] = [];
      const a = await central(storage, 1, lines);
      const bets = stream(1, 40);
      const id = { total: 40, digest: await digestOf(bets) };
      const pending = [0, 20].map((first) => {
        const rows = betRows(bets.slice(first, first + 20));
        const stored = a.store(1, first, rows, new Pipeline(), id);
        rows.bytes.fill(0x41);
        return stored;
      });
      for (const outcome of await Promise.all(pending)) {
        assert.equal(outcome.status, "stored");
      }
      assert.deepEqual(await a.finish(1, 40, id.digest), {
        status: "finished",
        first: true,
        bets: 40,
      });
    },

  "stream identity: another file under the same id is a conflict": async (
    storage,
  ) => {
    const lines: string[] = [];
    const a = await central(storage, 1, lines);
    const mine = stream(1, 6);
    const other = mine.map((b, i) => i === 2 ? bet(1, 50) : b);
    const id = { total: 6, digest: await digestOf(mine) };
    const otherId = { total: 6, digest: await digestOf(other) };
    assert.equal(
      (await a.store(1, 0, betRows(mine.slice(0, 3)), new Pipeline(), id))
        .status,
      "stored",
    );
    const b = await central(storage, 1, lines);
    const opened = await b.open(1, otherId.total, otherId.digest);
    assert.equal(opened.status === "refused" && opened.code, "conflict");
    const stored = await b.store(
      1,
      3,
      betRows(other.slice(3)),
      new Pipeline(),
      otherId,
    );
    assert.equal(stored.status === "refused" && stored.code, "conflict");
    assert.deepEqual(await b.open(1, id.total, id.digest), {
      status: "open",
      stored: 3,
    });
  },

  "a finish is checked against the hello's digest and counted once": async (
    storage,
  ) => {
    const lines: string[] = [];
    const a = await central(storage, 2, lines);
    const bets = stream(1, 9);
    const digest = await digestOf(bets);
    await a.store(1, 0, betRows(bets.slice(0, 4)), new Pipeline(), {
      total: 9,
      digest,
    });
    const early = await a.finish(1, 9, digest);
    assert.equal(early.status === "refused" && early.code, "incomplete");
    await a.store(1, 4, betRows(bets.slice(4)), new Pipeline(), {
      total: 9,
      digest,
    });
    const wrong = await a.finish(1, 9, await digestOf(stream(2, 9)));
    assert.equal(wrong.status === "refused" && wrong.code, "conflict");
    const b = await central(storage, 2, lines);
    const outcomes = await Promise.all([
      a.finish(1, 9, digest),
      b.finish(1, 9, digest),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status === "finished" && o.first).sort(),
      [false, true],
    );
    assert.deepEqual(await a.finish(1, 9, digest), {
      status: "finished",
      first: false,
      bets: 9,
    });
    assert.equal(
      lines.filter((l) => l.startsWith("agencia_finalizada")).length,
      1,
    );
    const late = await b.store(
      1,
      9,
      betRows([bet(1, 9)]),
      new Pipeline(),
      null,
    );
    assert.equal(late.status === "refused" && late.code, "agencyFinished");
    // Progress: one agency still loading, the partial answers say so.
    assert.deepEqual(await b.winners(1), {
      status: "pending",
      pendingAgencies: 1,
    });
    assert.deepEqual(await a.total(), {
      status: "pending",
      pendingAgencies: 1,
    });
  },

  "a finish hashes exactly the rows stored: resends skipped, another central's rows, a row not of the file":
    async (storage) => {
      const lines: string[] = [];
      const [a, b] = [
        await central(storage, 3, lines),
        await central(storage, 3, lines),
      ];
      const put = (c: Lottery, agency: number, first: number, bets: Bet[]) =>
        c.store(agency, first, betRows(bets), new Pipeline(), null);
      const finish = async (c: Lottery, agency: number, bets: Bet[]) => {
        const done = await c.finish(agency, bets.length, await digestOf(bets));
        return done.status === "refused" ? done.code : done.status;
      };
      // Agency 1, all through a, resent in overlapping batches.
      const one = stream(1, 12);
      for (const [from, to] of [[0, 5], [0, 5], [3, 9], [2, 12]]) {
        await put(a, 1, from!, one.slice(from, to));
      }
      assert.equal(await finish(a, 1, stream(1, 13).slice(1)), "conflict");
      assert.equal(await finish(a, 1, one), "finished");
      // Agency 2: a, then b, then a again.
      const two = stream(2, 9);
      await put(a, 2, 0, two.slice(0, 3));
      await put(b, 2, 3, two.slice(3, 6));
      await put(a, 2, 6, two.slice(6));
      assert.equal(
        await finish(a, 2, [...two.slice(0, 8), bet(2, 9)]),
        "conflict",
      );
      assert.equal(await finish(a, 2, two), "finished");
      // Agency 3, all through a: its fifth row is not of the file it finishes.
      const three = stream(3, 6);
      await put(a, 3, 0, three.map((x, i) => i === 4 ? bet(3, 60) : x));
      assert.equal(await finish(a, 3, three), "conflict");
    },

  "the draw is made once across centrals; sorteo is logged once; each agency gets its own winners":
    async (storage) => {
      const lines: string[] = [];
      const agencies = 3;
      const centrals = await Promise.all(
        Array.from(
          { length: agencies },
          () => central(storage, agencies, lines),
        ),
      );
      await Promise.all(centrals.map(async (c, k) => {
        const agency = k + 1;
        const bets = stream(agency, 50 + k);
        const digest = await digestOf(bets);
        for (let first = 0; first < bets.length; first += 16) {
          const rows = betRows(bets.slice(first, first + 16));
          assert.equal(
            (await c.store(agency, first, rows, new Pipeline(), {
              total: bets.length,
              digest,
            })).status,
            "stored",
          );
        }
        assert.equal(
          (await c.finish(agency, bets.length, digest)).status,
          "finished",
        );
      }));
      // Every central races for the draw, then each agency asks another one.
      const draws = await Promise.all(centrals.map((c) => c.ensureDraw()));
      const digests = new Set(
        draws.map((d) => "summary" in d ? d.summary.digest : "none"),
      );
      assert.equal(digests.size, 1);
      assert.equal(lines.filter((l) => l.startsWith("sorteo ")).length, 1);
      const late = await central(storage, agencies, lines);
      for (let agency = 1; agency <= agencies; agency++) {
        const expected = stream(agency, 50 + agency - 1).filter((b) =>
          b.number === 7574
        )
          .map((b) => b.document);
        for (const c of [...centrals, late]) {
          assert.deepEqual(await c.winners(agency), {
            status: "ready",
            documents: expected,
          });
        }
      }
      const total = [0, 1, 2].reduce((n, k) => n + Math.ceil((50 + k) / 7), 0);
      assert.deepEqual(await late.total(), { status: "ready", total });
      assert.equal(lines.filter((l) => l.startsWith("sorteo ")).length, 1);
    },
  "a finish under another stream than the one recorded with the first bets is a conflict":
    async (storage) => {
      const lines: string[] = [];
      const a = await central(storage, 1, lines);
      const bets = stream(1, 6);
      const real = { total: 6, digest: await digestOf(bets) };
      const wrong = { total: 6, digest: new Uint8Array(32).fill(5) };
      // Two connections of agency 1 opened before anything is stored: the
      // one with the wrong digest stores the rows, so its stream is kept.
      assert.equal((await a.open(1, wrong.total, wrong.digest)).status, "open");
      assert.equal((await a.open(1, real.total, real.digest)).status, "open");
      assert.equal(
        (await a.store(1, 0, betRows(bets), new Pipeline(), wrong)).status,
        "stored",
      );
      const finish = await a.finish(1, real.total, real.digest);
      assert.equal(finish.status === "refused" && finish.code, "conflict");
      const again = await a.finish(1, wrong.total, wrong.digest);
      assert.equal(again.status === "refused" && again.code, "conflict");
      assert.equal(lines.filter((l) => l.startsWith("sorteo ")).length, 0);
    },
};

async function contract(t: Deno.TestContext, fixture: BackendFixture) {
  for (const [name, run] of Object.entries(CASES)) {
    await t.step(name, async () => {
      await using storage = await fixture.fresh();
      await run(storage);
    });
  }
}

Deno.test("storage contract: the file store", async (t) => {
  await using fixture = fileFixture();
  await contract(t, fixture);
});

Deno.test("storage contract: PostgreSQL", async (t) => {
  await using fixture = await postgresFixture();
  await contract(t, fixture);
});
