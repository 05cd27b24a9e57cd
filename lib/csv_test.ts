/**
 * Tests of the CSV reader and writer.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type CsvRecord, formatCsvRow, readCsvRecords } from "./csv.ts";

async function parse(
  text: string | Uint8Array,
  chunk = 3,
): Promise<CsvRecord[]> {
  const bytes = typeof text === "string"
    ? new TextEncoder().encode(text)
    : text;
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += chunk) {
      yield bytes.subarray(i, i + chunk);
    }
  }
  const out: CsvRecord[] = [];
  for await (const record of readCsvRecords(chunks())) out.push(record);
  return out;
}

Deno.test("LF, CRLF, BOM, blank lines and a last line without a line end", async () => {
  const text = "\uFEFFSantiago Lionel,Lorca,30904465,1999-03-17,2201\r\n\r\n" +
    "Tiago Nicolás,Rivera,34407251,2001-08-29,1033\nÁ,B,1,2000-01-01,0";
  assert.deepEqual(await parse(text), [
    {
      fields: ["Santiago Lionel", "Lorca", "30904465", "1999-03-17", "2201"],
      line: 1,
    },
    {
      fields: ["Tiago Nicolás", "Rivera", "34407251", "2001-08-29", "1033"],
      line: 3,
    },
    { fields: ["Á", "B", "1", "2000-01-01", "0"], line: 4 },
  ]);
});

Deno.test("quoted fields with commas, quotes and line breaks", async () => {
  const text = 'a,"b, ""c""",d\n"multi\nline",x\r\nlast,"q"';
  for (const chunk of [1, 2, 5, 100]) {
    assert.deepEqual(await parse(text, chunk), [
      { fields: ["a", 'b, "c"', "d"], line: 1 },
      { fields: ["multi\nline", "x"], line: 2 },
      { fields: ["last", "q"], line: 4 },
    ], `chunk ${chunk}`);
  }
});

Deno.test("malformed CSV is a SyntaxError naming the line", async () => {
  await assert.rejects(
    parse('ok,1\n"never closes,2\n'),
    /line 2: a quoted field never closes/,
  );
  await assert.rejects(
    parse('ok\nab"c,1\n'),
    /line 2: a quote inside an unquoted field/,
  );
  await assert.rejects(
    parse('"a"b,1\n'),
    /line 1: unexpected character after a closing quote/,
  );
  await assert.rejects(
    parse(new Uint8Array([0x61, 0x0a, 0xff, 0x0a])),
    /not valid UTF-8/,
  );
});

Deno.test("minimal quoting quotes only what needs it", () => {
  assert.equal(formatCsvRow([1, "Juan", "O'Neil", "1"]), "1,Juan,O'Neil,1");
  assert.equal(
    formatCsvRow(["a,b", 'say "hi"', "x\ny"]),
    '"a,b","say ""hi""","x\ny"',
  );
});

Deno.test("property: parse(format(rows)) gives the rows back", async () => {
  const field = fc.string({
    unit: fc.constantFrom("a", "ñ", ",", '"', "\n", "\r", " ", "1"),
    maxLength: 6,
  });
  const row = fc.array(field, { minLength: 2, maxLength: 5 });
  await fc.assert(
    fc.asyncProperty(
      fc.array(row, { maxLength: 8 }),
      fc.integer({ min: 1, max: 9 }),
      async (rows, chunk) => {
        const text = rows.map((r) => formatCsvRow(r) + "\n").join("");
        const parsed = await parse(text, chunk);
        assert.deepEqual(parsed.map((r) => r.fields), rows);
      },
    ),
    { numRuns: 300 },
  );
});
