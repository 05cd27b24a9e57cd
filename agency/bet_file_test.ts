import assert from "node:assert/strict";
import { join } from "node:path";
import { BetFileError, countBets, readBetFile } from "./bet_file.ts";

async function withCsv(text: string, fn: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "tp0-betfile-" });
  try {
    const path = join(dir, "agency-1.csv");
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("bets stream out of a CRLF file with accents", async () => {
  await withCsv(
    "Santiago Lionel,Lorca,30904465,1999-03-17,2201\r\nTiago Nicolás,Rivera,34407251,2001-08-29,7574\r\n",
    async (path) => {
      const bets = await Array.fromAsync(readBetFile(path, 1));
      assert.deepEqual(bets[1], {
        firstName: "Tiago Nicolás",
        lastName: "Rivera",
        document: "34407251",
        birthdate: "2001-08-29",
        number: "7574",
      });
      assert.equal(await countBets(path, 1), 2);
    },
  );
});

Deno.test("a bad line is reported with the file and line number", async () => {
  const good = "A,B,1,2000-01-01,1\n";
  await withCsv(good + good + "A,B,1,2000-01-01\n", async (path) => {
    await assert.rejects(
      countBets(path, 1),
      (e) =>
        e instanceof BetFileError && e.line === 3 &&
        e.message.includes(`${path} line 3: 4 fields`),
    );
  });
  await withCsv(good + "A,B,x1,2000-01-01,1\n", async (path) => {
    await assert.rejects(
      countBets(path, 1),
      /line 2: document "x1" is not a string of 1 to 20 digits/,
    );
  });
  await withCsv(good + "A,B,1,2000-02-30,1\n", async (path) => {
    await assert.rejects(
      countBets(path, 1),
      /line 2: birthdate "2000-02-30" is not a calendar date/,
    );
  });
  await assert.rejects(
    countBets("/nonexistent/agency.csv", 1),
    /Cannot read bets from \/nonexistent\/agency.csv: the file cannot be opened \(NotFound\)/,
  );
});
