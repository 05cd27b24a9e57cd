import assert from "node:assert/strict";
import { join } from "node:path";
import { Bet, BETS_FILE, loadBets, storeBets } from "./storage.ts";

async function withFile(fn: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "tp0-storage-" });
  try {
    await fn(join(dir, BETS_FILE));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("store_bets then load_bets gives the bets back in order, commas, quotes and accents intact", async () => {
  await withFile(async (path) => {
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
  await withFile(async (path) => {
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
