/**
 * Tests of the bet-line checks and the rows they make.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Bet } from "./bet.ts";
import {
  canonicalBetLine,
  canonicalBetLineEnd,
  toStorageRows,
} from "./bet_row.ts";
import { formatCsvRow } from "./csv.ts";

/** The day the tests run on, as far as the rules know: the latest birthdate. */
const TODAY = "2026-12-01";
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** The fast check of `line` in the middle of a buffer, ended by LF. */
const fast = (line: string) => {
  const bytes = encoder.encode(`xx${line}\nyy`);
  const end = canonicalBetLineEnd(bytes, 2, bytes.length, TODAY);
  if (end === -1) return false;
  assert.equal(end, bytes.length - 3, `${line} ends at its LF`);
  return true;
};

Deno.test("the fast check accepts stored-form bets and leaves the rest to the slow path", () => {
  for (
    const line of [
      "Santiago Lionel,Lorca,30904465,1999-03-17,2201",
      "Tiago Nicolás,Rivera,34407251,2000-02-29,0",
      "A,B,00012345678901234567,1000-12-31,999999999999999",
    ]
  ) {
    assert.ok(fast(line), line);
    assert.equal(canonicalBetLine(line, 1, TODAY), line);
  }
  for (
    const line of [
      '"Lorca, Santiago",Lorca,1,1999-03-17,2', // quoted: slow path
      "A,B,1,1999-03-17,0042", // leading zeros: slow path, stored as 42
      "A,B,1,0999-03-17,2", // an early year: slow path
      " ,B,1,1999-03-17,2", // blank name
      "A,B,1,1999-02-29,2", // not a leap year
      "A,B,1,1999-13-01,2",
      "A,B,x1,1999-03-17,2",
      "A,B,1,1999-03-17,2,3",
      "A,B,1,1999-03-17,",
      "A,B\t,1,1999-03-17,2",
      "A,B,123456789012345678901,1999-03-17,2",
      "A,B,1,1999-03-17,2x", // the line must end after the number
      "A,B,1,1999-03-17,2\rx",
    ]
  ) {
    assert.equal(fast(line), false, line);
  }
  assert.equal(
    canonicalBetLine('"Lorca, Santiago",Lorca,1,1999-03-17,0042', 1, TODAY),
    '"Lorca, Santiago",Lorca,1,1999-03-17,42',
  );
  assert.throws(
    () => canonicalBetLine("A,B,1,1999-02-29,2", 1, TODAY),
    RangeError,
  );
  assert.throws(
    () => canonicalBetLine("A,B,1,1999-03-17", 1, TODAY),
    /4 fields/,
  );
});

const name = fc.string({ unit: "grapheme", minLength: 0, maxLength: 6 });
const digits = fc.stringMatching(/^\d{0,22}$/);
const date = fc.oneof(
  fc.date({ min: new Date(-1e14), max: new Date(1e14), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10)),
  fc.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
);
const line = fc.tuple(name, name, digits, date, digits).map((fields) =>
  fields.join(",")
);

Deno.test("the fast check ends a line at LF, CR LF, or the limit", () => {
  const bytes = encoder.encode("A,B,1,1999-03-17,2\r\nA,B,1,1999-03-17,3");
  assert.equal(canonicalBetLineEnd(bytes, 0, bytes.length, TODAY), 18);
  assert.equal(
    canonicalBetLineEnd(bytes, 20, bytes.length, TODAY),
    bytes.length,
  );
  assert.equal(canonicalBetLineEnd(bytes, 0, 19, TODAY), 18); // a CR at the limit
  assert.equal(canonicalBetLineEnd(bytes, 0, 10, TODAY), -1); // cut short
});

Deno.test("property: the fast check never accepts what the reference would not store as it is", () => {
  fc.assert(
    fc.property(line, (text) => {
      if (!fast(text)) return;
      assert.equal(canonicalBetLine(text, 1, TODAY), text);
    }),
    { numRuns: 5000 },
  );
});

Deno.test("property: bytes past the limit never change the fast check", () => {
  fc.assert(
    fc.property(
      line,
      fc.string(),
      fc.nat(),
      (text, after, cut) => {
        const bytes = encoder.encode(`${text}${after}`);
        const limit = cut % (encoder.encode(text).length + 1);
        assert.equal(
          canonicalBetLineEnd(bytes, 0, limit, TODAY),
          canonicalBetLineEnd(bytes.slice(0, limit), 0, limit, TODAY),
        );
      },
    ),
    { numRuns: 5000 },
  );
});

Deno.test("property: storage rows equal store_bets' rows for the same bets", () => {
  fc.assert(
    fc.property(fc.array(line, { maxLength: 30 }), (lines) => {
      const bets: Bet[] = [];
      for (const text of lines) {
        try {
          canonicalBetLine(text, 3, TODAY);
        } catch {
          return; // batches with an invalid bet are covered below
        }
        const [a, b, c, d, e] = text.split(",") as [
          string,
          string,
          string,
          string,
          string,
        ];
        bets.push(new Bet(3, a, b, c, d, e, TODAY));
      }
      const body = encoder.encode(lines.map((l) => `3,${l}\n`).join(""));
      const rows = toStorageRows(3, body, undefined, TODAY);
      assert.equal(rows.count, bets.length);
      assert.equal(
        decoder.decode(rows.bytes),
        bets.map((bet) =>
          formatCsvRow([
            bet.agency,
            bet.firstName,
            bet.lastName,
            bet.document,
            bet.birthdate,
            bet.number,
          ]) + "\n"
        ).join(""),
      );
    }),
    { numRuns: 2000 },
  );
});

Deno.test("rows not in stored form are rewritten into new bytes; stored-form rows are kept as they came", () => {
  const body = encoder.encode(
    '1,A,B,1,1999-03-17,2\n1,"A",B,1,1999-03-17,0042\n1,A,B,1,1999-03-17,3\n',
  );
  const rows = toStorageRows(1, body);
  assert.equal(rows.count, 3);
  body.fill(0);
  assert.equal(
    decoder.decode(rows.bytes),
    "1,A,B,1,1999-03-17,2\n1,A,B,1,1999-03-17,42\n1,A,B,1,1999-03-17,3\n",
  );
  const plain = encoder.encode("1,A,B,1,1999-03-17,2\n");
  assert.equal(toStorageRows(1, plain).bytes, plain);
});

Deno.test("a row of another agency is refused", () => {
  for (const row of ["2,A,B,1,1999-03-17,2\n", '"1",A,B,1,1999-03-17,2\n']) {
    assert.throws(
      () => toStorageRows(1, encoder.encode(`1,A,B,1,1999-03-17,2\n${row}`)),
      (e) =>
        e instanceof SyntaxError &&
        /^bet 2 of 2: .*does not start with its agency, 1/.test(e.message),
      row,
    );
  }
});

Deno.test("a bad bet in a batch is named by its place", () => {
  const body = encoder.encode(
    "1,A,B,1,1999-03-17,2\n1,A,B,1,1999-02-30,2\n1,A,B,1,1999-03-17,2\n",
  );
  assert.throws(
    () => toStorageRows(1, body),
    (e) => e instanceof RangeError && /^bet 2 of 3: /.test(e.message),
  );
  assert.throws(
    () => toStorageRows(1, new Uint8Array([0x31, 0x2c, 0x41, 0xff, 0x0a])),
    /not valid UTF-8/,
  );
});

Deno.test("C1 controls and line separators in names are refused by both checks", () => {
  for (const bad of ["\u0085", "\u0080", "\u009f", "\u2028", "\u2029"]) {
    for (
      const line of [`A${bad}B,C,1,1999-03-17,2`, `A,x${bad},1,1999-03-17,2`]
    ) {
      assert.equal(fast(line), false, JSON.stringify(line));
      assert.throws(
        () => canonicalBetLine(line, 1, TODAY),
        /contains a control character/,
        JSON.stringify(line),
      );
    }
  }
  // Their neighbours are letters and spaces like any other.
  for (const good of ["\u00a0", "\u00e9", "\u2027", "\u2030", "\u07ff"]) {
    const line = `A${good}B,C,1,1999-03-17,2`;
    assert.ok(fast(line), JSON.stringify(line));
    assert.equal(canonicalBetLine(line, 1, TODAY), line);
  }
});

Deno.test("format characters (Cf) in names are refused by both checks", () => {
  const format = [
    "\u00ad",
    "\u0600",
    "\u200b",
    "\u200e",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\u{110bd}",
    "\u{e0001}",
  ];
  for (const bad of format) {
    for (
      const line of [
        `A${bad}B,C,1,1999-03-17,2`,
        `A,x${bad},1,1999-03-17,2`,
        `${bad}${bad},C,1,1999-03-17,2`,
      ]
    ) {
      assert.equal(fast(line), false, JSON.stringify(line));
      assert.throws(
        () => canonicalBetLine(line, 1, TODAY),
        /contains an invisible format character \(U\+[0-9A-F]{4,}\)/,
        JSON.stringify(line),
      );
    }
  }
  // A name only of zero-width spaces is not a name.
  assert.throws(
    () => toStorageRows(1, encoder.encode("1,\u200b\u200b,C,1,1999-03-17,2\n")),
    /bet 1 of 1: Cannot accept bet: first_name contains an invisible format character \(U\+200B\)/,
  );
  // Letters of other scripts beside them stay on the fast path.
  for (const good of ["\u00e9\u00f1", "\u0627\u0644", "\u4e2d", "\u{1f600}"]) {
    const line = `A${good},C,1,1999-03-17,2`;
    assert.ok(fast(line), JSON.stringify(line));
  }
});

Deno.test("a birthdate after today is refused by both checks; today itself is valid", () => {
  assert.ok(fast(`A,B,1,${TODAY},2`));
  assert.equal(
    canonicalBetLine(`A,B,1,${TODAY},2`, 1, TODAY),
    `A,B,1,${TODAY},2`,
  );
  for (
    const later of ["2026-12-02", "2027-01-01", "2100-02-28", "9999-12-31"]
  ) {
    assert.equal(fast(`A,B,1,${later},2`), false, later);
    assert.throws(
      () => canonicalBetLine(`A,B,1,${later},2`, 1, TODAY),
      (e) =>
        e instanceof RangeError &&
        e.message.includes(`"${later}" is in the future`),
    );
  }
  const body = encoder.encode(`1,A,B,1,1999-03-17,2\n1,A,B,1,2026-12-02,2\n`);
  assert.throws(
    () => toStorageRows(1, body, undefined, TODAY),
    /^RangeError: bet 2 of 2: .*in the future/,
  );
  assert.equal(toStorageRows(1, body, undefined, "2026-12-02").count, 2);
});

Deno.test("property: with risky characters and dates near today, the fast check stays within the reference", () => {
  const risky = fc.string({
    unit: fc.constantFrom(
      "a",
      " ",
      "\u00e9",
      "\u0085",
      "\u009f",
      "\u00a0",
      "\u2028",
      "\u2029",
      "\u202f",
      "\u200b",
      "\u202e",
      "\ufeff",
      "\u00ad",
      "\u{1f600}",
    ),
    maxLength: 4,
  });
  const near = fc.integer({ min: -3, max: 3 }).map((days) =>
    new Date(Date.parse(TODAY) + days * 86_400_000).toISOString().slice(0, 10)
  );
  fc.assert(
    fc.property(risky, risky, near, (first, last, birthdate) => {
      const text = `${first},${last},1,${birthdate},2`;
      let reference: string | null;
      try {
        reference = canonicalBetLine(text, 1, TODAY);
      } catch {
        reference = null;
      }
      if (fast(text)) assert.equal(reference, text);
    }),
    { numRuns: 3000 },
  );
});
