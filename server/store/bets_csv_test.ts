/**
 * Tests of the storage functions and the draw's scan of bets.csv.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { drawWinners } from "./parallel_draw.ts";
import {
  Bet,
  BETS_FILE,
  hasWon,
  loadBets,
  scanWinners,
  storeBets,
} from "./bets_csv.ts";
import { withTempPath } from "./temp_path_fixture.ts";

Deno.test("store_bets then load_bets gives the bets back in order, commas, quotes and accents intact", async () => {
  await withTempPath(BETS_FILE, async (path) => {
    const bets = [
      new Bet(1, "Santiago Lionel", "Lorca", "30904465", "1999-03-17", 2201),
      new Bet(2, 'José, "Pepe"', "Fornerón", "00000000", "2000-02-29", 7574),
      new Bet(3, "Ñandú", "O'Neil", "1", "1950-12-31", 0),
    ];
    {
      using file = await Deno.open(path, { append: true, create: true });
      const n1 = storeBets(file, bets.slice(0, 2));
      const n2 = storeBets(file, bets.slice(2));
      assert.equal(n1 + n2, (await Deno.stat(path)).size);
    }
    assert.equal(
      await Deno.readTextFile(path),
      "1,Santiago Lionel,Lorca,30904465,1999-03-17,2201\n" +
        '2,"José, ""Pepe""",Fornerón,00000000,2000-02-29,7574\n' +
        "3,Ñandú,O'Neil,1,1950-12-31,0\n",
    );
    const loaded = await Array.fromAsync(loadBets(path));
    assert.deepEqual(loaded, bets);
  });
});

Deno.test("load_bets of a missing file yields nothing; a bad row names its line", async () => {
  await withTempPath(BETS_FILE, async (path) => {
    assert.deepEqual(await Array.fromAsync(loadBets(path)), []);
    await Deno.writeTextFile(
      path,
      "1,A,B,1,2000-01-01,5\n1,A,B,1,2000-13-01,5\n",
    );
    await assert.rejects(
      Array.fromAsync(loadBets(path)),
      /line 2: .*birthdate/,
    );
    await Deno.writeTextFile(path, "1,A,B\n");
    await assert.rejects(
      Array.fromAsync(loadBets(path)),
      /line 1 has 3 fields/,
    );
  });
});

Deno.test("property: the draw's scan finds exactly what load_bets + has_won find", async () => {
  const name = fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 })
    // What a name may hold: no C0 or C1 control, no line or paragraph separator.
    .filter((s) =>
      s.trim() !== "" &&
      ![...s].some((c) => {
        const n = c.codePointAt(0)!;
        return n < 0x20 || (n >= 0x7f && n <= 0x9f) || n === 0x2028 ||
          n === 0x2029;
      })
    );
  const bet = fc.record({
    agency: fc.integer({ min: 1, max: 4 }),
    first: name,
    last: name,
    document: fc.stringMatching(/^\d{1,9}$/),
    number: fc.oneof(
      fc.constant(7574),
      fc.constantFrom(17574, 75740, 757, 0),
      fc.nat({ max: 99_999 }),
    ),
  }).map((b) =>
    new Bet(b.agency, b.first, b.last, b.document, "1990-01-31", b.number)
  );
  await fc.assert(
    fc.asyncProperty(fc.array(bet, { maxLength: 40 }), fc.nat(), async (
      bets,
      cut,
    ) => {
      await withTempPath(BETS_FILE, async (path) => {
        {
          using file = await Deno.open(path, { append: true, create: true });
          storeBets(file, bets);
        }
        const expected = new Map<number, string[]>();
        for await (const stored of loadBets(path)) {
          if (!hasWon(stored)) continue;
          const list = expected.get(stored.agency) ?? [];
          list.push(stored.document);
          expected.set(stored.agency, list);
        }
        assert.deepEqual(await scanWinners(path), expected);
        // Cut in two anywhere, the halves hold the same winners.
        const at = cut % ((await Deno.stat(path)).size + 1);
        const halves = await scanWinners(path, 0, at);
        for (const [agency, documents] of await scanWinners(path, at)) {
          halves.set(agency, [...(halves.get(agency) ?? []), ...documents]);
        }
        assert.deepEqual(halves, expected);
      });
    }),
    { numRuns: 150 },
  );
});

Deno.test("the draw's scan agrees with load_bets + has_won across read chunks and search slices", async () => {
  await withTempPath(BETS_FILE, async (path) => {
    // About 3 MB: rows of uneven length (one longer than a search slice),
    // every other row a winner, so some straddle chunk and slice
    // boundaries, and a last row with no line end.
    const bets: Bet[] = [];
    for (let i = 0; i < 40_000; i++) {
      const name = i === 20_000 ? "Ñ".repeat(40_000) : "José".repeat(1 + i % 9);
      const number = i % 2 === 0 || i === 39_999 ? 7574 : i % 10_000;
      bets.push(
        new Bet(1 + i % 3, name, "Pérez", String(i), "1990-01-31", number),
      );
    }
    {
      using file = await Deno.open(path, { append: true, create: true });
      storeBets(file, bets);
    }
    await Deno.writeTextFile(path, "2,Ana,Díaz,77,1990-01-31,07574", {
      append: true,
    });
    const expected = new Map<number, string[]>();
    for await (const stored of loadBets(path)) {
      if (!hasWon(stored)) continue;
      expected.set(stored.agency, [
        ...(expected.get(stored.agency) ?? []),
        stored.document,
      ]);
    }
    assert.ok([...expected.values()].flat().length > 20_000);
    assert.deepEqual(await scanWinners(path), expected);
    // Ranges side by side, cut anywhere (in a row, at a row's start, on a
    // line end, inside a chunk, past the end), find every winner once.
    const size = (await Deno.stat(path)).size;
    const lf = (await Deno.readFile(path)).indexOf(0x0a, 1_234_567);
    const cuts = [0, 1, 99, 1 << 20, lf, lf + 1, size - 3, size, size + 10];
    assert.ok(lf > 1 << 20);
    const merged = new Map<number, string[]>();
    for (let i = 0; i + 1 < cuts.length; i++) {
      for (
        const [agency, documents] of await scanWinners(
          path,
          cuts[i],
          cuts[i + 1],
        )
      ) {
        merged.set(agency, [...(merged.get(agency) ?? []), ...documents]);
      }
    }
    assert.deepEqual(merged, expected);
    // The draw itself, the second half on a worker thread.
    assert.deepEqual(await drawWinners(path, 0), expected);
  });
});
