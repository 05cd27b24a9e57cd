import assert from "node:assert/strict";
import fc from "fast-check";
import { load } from "js-yaml";
import { parseSimpleYaml } from "./simple_yaml.ts";

/** What js-yaml makes of `text`, or the error it throws. */
function full(text: string): { value: unknown } | { error: string } {
  try {
    return { value: load(text) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

Deno.test("the shipped config.yaml is in the subset and reads as js-yaml reads it", async () => {
  const text = await Deno.readTextFile(
    new URL("../agency/config.yaml", import.meta.url),
  );
  const parsed = parseSimpleYaml(text);
  assert.ok(parsed !== null);
  assert.deepEqual(parsed, full(text));
  assert.deepEqual(parsed.value, {
    server: { address: "server:12345" },
    loop: { amount: 5, period: "5s" },
    log: { level: "INFO" },
    batch: { maxAmount: 160 },
    mode: "lottery",
    data: { path: "/data/agency.csv" },
  });
});

Deno.test("nesting, comments, quotes, CRLF and empty values", () => {
  const text = "# top\r\n\r\na:\r\n  b: 'x: y' # c\r\n  c:\r\n" +
    "d: -12\n" +
    'e: "two words"\n' +
    "f:   plain words here  # trailing\n" +
    "g:\n    h:\n        i: 0\n    j: k\n";
  const parsed = parseSimpleYaml(text);
  assert.deepEqual(parsed, {
    value: {
      a: { b: "x: y", c: null },
      d: -12,
      e: "two words",
      f: "plain words here",
      g: { h: { i: 0 }, j: "k" },
    },
  });
  assert.deepEqual(parsed, full(text));
});

Deno.test("anything outside the subset is left to the full parser", () => {
  for (
    const text of [
      "server: {address: 'a:1'}", // flow mapping
      "list:\n  - a\n", // sequence
      "a: true", // boolean
      "a: 1.5", // float
      "a: 2020-01-01", // date
      "a: 0x1f", // hex
      "a: 012", // leading zero
      'a: "tab\\there"', // escape
      "a: 'it''s'", // quote escape
      "a: 1\na: 2", // duplicate key
      "a:\n\tb: 1", // tab indentation
      "a:\n    b: 1\n  c: 2", // dedent to no level
      "---\na: 1", // document marker
      "a: &x 1", // anchor
      "a: |\n  text", // block scalar
      "loop: [1, 2", // syntax error
      "__proto__: 1",
      "a: ~",
      "", // empty
      "# only a comment\n",
    ]
  ) {
    assert.equal(parseSimpleYaml(text), null, text);
  }
});

/** YAML-like documents: lines made of the given pieces. */
function documents(
  indents: string[],
  keys: string[],
  colons: string[],
  values: string[],
): fc.Arbitrary<string> {
  return fc.array(
    fc.tuple(
      fc.constantFrom(...indents),
      fc.constantFrom(...keys),
      fc.constantFrom(...colons),
      fc.constantFrom(...values),
      fc.constantFrom("\n", "\r\n"),
    ).map((parts) => parts.join("")),
    { maxLength: 8 },
  ).map((lines) => lines.join(""));
}

/** Values in the subset. */
const GOOD_VALUES = [
  "",
  "1",
  "-7",
  "0",
  "word",
  "two words",
  "x:y",
  "5s",
  "server:12345",
  "/data/agency.csv",
  "'q'",
  "'a: b'",
  '"dq"',
  '"a # b"',
  "# c",
  "w # c",
  "a@b+c",
  "INFO",
];

/** A mapping of up to three levels, as entries with unique keys. */
type Tree = [string, string | Tree][];
const tree: fc.Arbitrary<Tree> = fc.letrec<{ map: Tree }>((tie) => ({
  map: fc.uniqueArray(
    fc.tuple(
      fc.constantFrom("a", "b", "id", "log_level", "x.y", "maxAmount", "k-1"),
      fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.constantFrom(...GOOD_VALUES),
        tie("map"),
      ),
    ),
    { selector: ([key]) => key, minLength: 1, maxLength: 4 },
  ) as fc.Arbitrary<Tree>,
})).map;

/** Documents in the subset: a tree, an indentation step, comments, CRLF. */
const tame = fc.tuple(
  tree,
  fc.constantFrom("  ", "    "),
  fc.constantFrom("\n", "\r\n"),
  fc.boolean(),
).map(([root, step, end, comments]) => {
  const lines: string[] = [];
  const render = (entries: Tree, indent: string) => {
    for (const [key, value] of entries) {
      if (comments) lines.push(`${indent}# about ${key}`, "");
      if (typeof value === "string") lines.push(`${indent}${key}: ${value}`);
      else {
        lines.push(`${indent}${key}:`);
        render(value, indent + step);
      }
    }
  };
  render(root, "");
  return lines.join(end) + end;
});

/** Pieces inside and outside the subset, mixed. */
const wild = documents(
  ["", " ", "  ", "    ", "\t"],
  ["a", "b", "id", "x.y", "a b", "'k'", "-", "__proto__", "<<"],
  [":", ": ", ":  ", " :", ""],
  [
    ...GOOD_VALUES,
    "007",
    "1.5",
    "x: y",
    "true",
    "Null",
    "~",
    '"\\n"',
    "'it''s'",
    "w#c",
    "[1]",
    "{a: 1}",
    "&a",
    "*a",
    "|",
    "2020-01-01",
    "x:",
    "- a",
  ],
);

Deno.test("whatever the subset accepts, it reads exactly as js-yaml does", () => {
  for (const [arbitrary, least] of [[tame, 2_000], [wild, 0]] as const) {
    let accepted = 0;
    fc.assert(
      fc.property(arbitrary, (text) => {
        const parsed = parseSimpleYaml(text);
        if (parsed === null) return;
        accepted++;
        assert.deepEqual(parsed, full(text), JSON.stringify(text));
      }),
      { numRuns: 10_000 },
    );
    // The property must not hold only because the subset refuses everything.
    assert.ok(accepted >= least, `${accepted} documents accepted`);
  }
});
