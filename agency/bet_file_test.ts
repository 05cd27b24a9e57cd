/**
 * Tests of the agency's CSV reading: the checking pass, its errors and the
 * batches it makes.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { toStorageRows } from "../lib/bet_row.ts";
import { HEADER_SIZE } from "../protocol/frame.ts";
import { decodeMessage } from "../protocol/messages.ts";
import {
  type BatchFrame,
  BetFileError,
  checkBetFile,
  loadBetBatches,
  readBatchFrames,
} from "./bet_file.ts";
import { sha256, StreamDigest } from "./stream_digest.ts";

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

Deno.test("bets stream out of a CRLF file with accents, as stored rows", async () => {
  await withCsv(
    "\ufeffSantiago Lionel,Lorca,30904465,1999-03-17,2201\r\n\r\n" +
      '"Rivera, Tiago",Nicolás,34407251,2001-08-29,07574\r\n' +
      "A,B,1,2000-01-01,3",
    async (path) => {
      const frames = await Array.fromAsync(readBatchFrames(path, 1, 2));
      assert.deepEqual(frames.map((f) => [f.first, f.count]), [[0, 2], [2, 1]]);
      const rows = frames.map(({ frame }) => {
        const message = decodeMessage({
          type: frame[0]!,
          payload: frame.subarray(HEADER_SIZE),
        });
        assert.ok(message.kind === "batch");
        return new TextDecoder().decode(message.rows);
      });
      assert.deepEqual(rows, [
        "1,Santiago Lionel,Lorca,30904465,1999-03-17,2201\n" +
        '1,"Rivera, Tiago",Nicolás,34407251,2001-08-29,7574\n',
        "1,A,B,1,2000-01-01,3\n",
      ]);
      assert.equal((await checkBetFile(path, 1)).total, 3);
    },
  );
});

Deno.test("a file larger than the read buffer, with lines across chunk ends", async () => {
  const line = (i: number) => `Ana María,Pérez,${i},1990-01-01,${i % 10_000}\n`;
  const text = Array.from({ length: 60_000 }, (_, i) => line(i)).join("");
  await withCsv(text, async (path) => {
    let n = 0;
    let rows = "";
    for await (const { first, count, frame } of readBatchFrames(path, 1, 100)) {
      assert.equal(first, n);
      n += count;
      rows += new TextDecoder().decode(frame.subarray(HEADER_SIZE + 10));
    }
    assert.equal(n, 60_000);
    assert.equal(
      rows,
      Array.from({ length: 60_000 }, (_, i) => `1,${line(i)}`).join(""),
    );
  });
});

Deno.test("a bad line is reported with the file and line number", async () => {
  const good = "A,B,1,2000-01-01,1\n";
  await withCsv(good + good + "A,B,1,2000-01-01\n", async (path) => {
    await assert.rejects(
      checkBetFile(path, 1),
      (e) =>
        e instanceof BetFileError && e.line === 3 &&
        e.message.includes(`${path} line 3: 4 fields`),
    );
  });
  await withCsv(good + "A,B,x1,2000-01-01,1\n", async (path) => {
    await assert.rejects(
      checkBetFile(path, 1),
      /line 2: document "x1" is not a string of 1 to 20 digits/,
    );
  });
  await withCsv(good + "A,B,1,2000-02-30,1\n", async (path) => {
    await assert.rejects(
      checkBetFile(path, 1),
      /line 2: birthdate "2000-02-30" is not a calendar date/,
    );
  });
  await withCsv(
    good +
      "A,B,1,2000-01-01,1\nA,\xff,1,2000-01-01,1\n".replace("\xff", "\u{fffd}"),
    async (path) => {
      const bytes = await Deno.readFile(path);
      bytes[bytes.indexOf(0xef, good.length * 2)] = 0xff;
      await Deno.writeFile(path, bytes);
      await assert.rejects(
        checkBetFile(path, 1),
        /line 3: the line is not valid UTF-8/,
      );
    },
  );
  await assert.rejects(
    checkBetFile("/nonexistent/agency.csv", 1),
    /Cannot read bets from \/nonexistent\/agency.csv: the file cannot be opened \(NotFound\)/,
  );
});

Deno.test("loadBetBatches gives the same checked frames whether it reads the file once or twice", async () => {
  const line = (i: number) => `Ana María,Pérez,${i},1990-01-01,${i % 10_000}\n`;
  const text = Array.from({ length: 3_000 }, (_, i) => line(i)).join("");
  await withCsv(text, async (path) => {
    const streamed = await Array.fromAsync(readBatchFrames(path, 7, 100));
    const size = (await Deno.stat(path)).size;
    for (const limit of [size, size - 1]) {
      const { total, batches } = await loadBetBatches(path, 7, 100, limit);
      assert.equal(total, 3_000);
      assert.deepEqual(await Array.fromAsync(batches), streamed);
    }
  });
});

Deno.test("loadBetBatches refuses a file with a bad line before giving any batch", async () => {
  const good = "A,B,1,2000-01-01,1\n";
  await withCsv(good.repeat(500) + "A,B,1,2000-01-01\n", async (path) => {
    for (const limit of [1 << 20, 0]) {
      await assert.rejects(
        loadBetBatches(path, 1, 100, limit),
        (e) => e instanceof BetFileError && e.line === 501,
      );
    }
  });
  await assert.rejects(
    loadBetBatches("/nonexistent/agency.csv", 1, 100),
    /Cannot read bets from \/nonexistent\/agency.csv: the file cannot be opened \(NotFound\)/,
  );
});

/** SHA-256 of the rows the central stores for these batch frames. */
async function centralDigest(agency: number, frames: BatchFrame[]) {
  const rows = frames.map(({ frame }) => {
    const message = decodeMessage({
      type: frame[0]!,
      payload: frame.subarray(HEADER_SIZE),
    });
    assert.ok(message.kind === "batch");
    return toStorageRows(agency, message.rows, message.count, "2030-01-01")
      .bytes;
  });
  return await sha256(rows);
}

Deno.test("the digest is SHA-256 of the rows the central stores, whichever way the file is read", async () => {
  const lines = Array.from(
    { length: 3_000 },
    (_, i) =>
      i % 7 === 0
        ? `"Pérez, Ana",Núñez,${i},1990-01-01,000${i % 10_000}`
        : `Ana María,Pérez,${i},1990-01-01,${i % 10_000}`,
  );
  await withCsv("\ufeff" + lines.join("\r\n") + "\r\n\r\n", async (path) => {
    const frames = await Array.fromAsync(readBatchFrames(path, 7, 100));
    const expected = await centralDigest(7, frames);
    const size = (await Deno.stat(path)).size;
    for (const limit of [size, size - 1]) {
      const { digest } = await loadBetBatches(path, 7, 100, limit);
      assert.deepEqual(digest, expected, `limit ${limit}`);
    }
    assert.deepEqual((await checkBetFile(path, 7)).digest, expected);
    // Another agency's rows, or one bet fewer, are another stream.
    assert.notDeepEqual((await checkBetFile(path, 8)).digest, expected);
    await Deno.writeTextFile(path, lines.slice(1).join("\n"));
    assert.notDeepEqual((await checkBetFile(path, 7)).digest, expected);
  });
});

Deno.test("an empty file's digest is SHA-256 of nothing", async () => {
  const empty =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  const hex = (b: Uint8Array) =>
    [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  await withCsv("", async (path) => {
    for (const limit of [1, 0]) {
      const { total, digest } = await loadBetBatches(path, 1, 100, limit);
      assert.equal(total, 0);
      assert.equal(hex(digest), empty);
    }
  });
});

Deno.test("the streaming digest takes rows longer than its staging buffer", async () => {
  const line = new TextEncoder().encode(
    `${"x".repeat(70_000)},B,1,2000-01-01,1`,
  );
  const short = new TextEncoder().encode("A,B,1,2000-01-01,1");
  const digest = await StreamDigest.create(12);
  digest.add(short, 0, short.length);
  digest.add(line, 0, line.length);
  digest.add(short, 0, short.length);
  const row = (
    bytes: Uint8Array,
  ) => [new TextEncoder().encode("12,"), bytes, new Uint8Array([10])];
  assert.deepEqual(
    digest.digest(),
    await sha256([...row(short), ...row(line), ...row(short)]),
  );
});

Deno.test("a birthdate after the agency's today is a bad line", async () => {
  await withCsv("A,B,1,2026-12-01,1\nA,B,1,2026-12-02,1\n", async (path) => {
    assert.equal((await checkBetFile(path, 1, "2026-12-02")).total, 2);
    for (const limit of [1 << 20, 0]) {
      await assert.rejects(
        loadBetBatches(path, 1, 100, limit, "2026-12-01"),
        (e) =>
          e instanceof BetFileError && e.line === 2 &&
          /birthdate "2026-12-02" is in the future/.test(e.message),
      );
    }
  });
});
