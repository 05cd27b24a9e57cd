/**
 * Tests of reading bets.csv as runs of one agency's rows.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { agencyRuns, NO_AGENCY, readRows } from "./row_runs.ts";

const encoder = new TextEncoder();

Deno.test("rows are grouped in runs of one agency, with their counts", () => {
  const text = "1,a\n1,b\n12,c\n2,d\nx,e\n2,f\n2,g";
  const bytes = encoder.encode(text);
  const runs: [number, string, number][] = [];
  agencyRuns(bytes, 0, bytes.length, (agency, start, end, rows) => {
    runs.push([agency, text.slice(start, end), rows]);
  });
  assert.deepEqual(runs, [
    [1, "1,a\n1,b\n", 2],
    [12, "12,c\n", 1],
    [2, "2,d\n", 1],
    [NO_AGENCY, "x,e\n", 1],
    [2, "2,f\n2,g", 2],
  ]);
});

Deno.test("runs are the rows grouped by their first field, wherever the range starts", () => {
  // Rows of a few agencies, some with ids that are not one, and bytes
  // outside ASCII; a reference splits the decoded text naively.
  const row = fc.tuple(
    fc.constantFrom("1", "2", "12", "x", "", "01234567890"),
    fc.constantFrom(",a", ",José", "b", ",ñ,7574"),
  ).map(([id, rest]) => id + rest);
  fc.assert(
    fc.property(fc.array(row, { maxLength: 30 }), fc.nat(5), (rows, pad) => {
      const text = rows.join("\n");
      const bytes = encoder.encode("9,".repeat(pad) + text);
      const from = bytes.length - encoder.encode(text).length;
      const got: [number, number, number][] = [];
      agencyRuns(bytes, from, bytes.length, (agency, start, end, count) => {
        assert.ok(start >= from && end <= bytes.length);
        got.push([agency, end - start, count]);
      });
      const expected: [number, number, number][] = [];
      const lines = text === "" ? [] : text.split("\n");
      for (const [i, line] of lines.entries()) {
        const id = /^(\d{1,10}),/.exec(line)?.[1];
        const agency = id === undefined ? NO_AGENCY : Number(id);
        const size = encoder.encode(line).length +
          (i < lines.length - 1 ? 1 : 0);
        const last = expected.at(-1);
        const prev = i > 0
          ? /^(\d{1,10}),/.exec(lines[i - 1]!)?.[1]
          : undefined;
        if (last !== undefined && id !== undefined && id === prev) {
          last[1] += size;
          last[2]++;
        } else expected.push([agency, size, 1]);
      }
      assert.deepEqual(got, expected);
    }),
  );
});

Deno.test("runs longer than a search window come in consecutive pieces", () => {
  const rows = [
    ...Array.from({ length: 5_000 }, (_, i) => `3,row ${i},José`),
    `4,${"x".repeat(100_000)}`,
    ...Array.from({ length: 5_000 }, (_, i) => `5,row ${i}`),
  ];
  const bytes = encoder.encode("junk\n" + rows.join("\n") + "\n");
  const from = 5;
  let next = from;
  const counts = new Map<number, number>();
  agencyRuns(bytes, from, bytes.length, (agency, start, end, count) => {
    assert.equal(start, next);
    next = end;
    counts.set(agency, (counts.get(agency) ?? 0) + count);
  });
  assert.equal(next, bytes.length);
  assert.deepEqual([...counts], [[3, 5_000], [4, 1], [5, 5_000]]);
});

Deno.test("readRows yields whole rows from one offset to another, and refuses a short file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tp0-row-runs-" });
  try {
    const path = join(dir, "bets.csv");
    const rows = Array.from({ length: 50 }, (_, i) => `1,row ${i}\n`).join("");
    await Deno.writeTextFile(path, rows + "1,past the end\n");
    const from = rows.indexOf("1,row 10");
    let read = "";
    for await (
      const { bytes, end, offset } of readRows(path, from, rows.length, 16)
    ) {
      assert.equal(offset, from + read.length);
      const chunk = new TextDecoder().decode(bytes.subarray(0, end));
      assert.ok(chunk.endsWith("\n"), chunk);
      read += chunk;
    }
    assert.equal(read, rows.slice(from));
    await assert.rejects(async () => {
      for await (const _ of readRows(path, 0, rows.length + 100)) { /* read */ }
    }, /ends at byte \d+, before byte \d+/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
