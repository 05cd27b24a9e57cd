/**
 * Tests of the course's bet.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Bet, currentDay, hasWon, LOTTERY_WINNER_NUMBER } from "./bet.ts";

const ok = [
  "1",
  "Santiago Lionel",
  "Lorca",
  "30904465",
  "1999-03-17",
  "7574",
] as const;

Deno.test("a valid bet converts agency and number to integers", () => {
  const bet = new Bet(...ok);
  assert.equal(bet.agency, 1);
  assert.equal(bet.number, LOTTERY_WINNER_NUMBER);
  assert.ok(hasWon(bet));
  assert.ok(!hasWon(new Bet(1, "A", "B", "1", "2000-02-29", "7575")));
});

Deno.test("edge values stay valid: document 00000000, number 0, leap day", () => {
  const bet = new Bet(5, "Ñandú", "O'Neil, Jr.", "00000000", "2000-02-29", "0");
  assert.equal(bet.document, "00000000");
  assert.equal(bet.number, 0);
});

Deno.test("every invalid field is refused with its name in the message", () => {
  const bad: [number, string, RegExp][] = [
    [0, "x", /agency "x"/],
    [0, "0", /agency 0 is not positive/],
    [1, " ", /first_name is empty/],
    [2, "", /last_name is empty/],
    [2, "a\nb", /last_name contains a control character/],
    [3, "12a45", /document "12a45"/],
    [3, "", /document ""/],
    [4, "2023-02-30", /birthdate "2023-02-30" is not a calendar date/],
    [4, "17/03/1999", /not a date YYYY-MM-DD/],
    [5, "-1", /number "-1" is not a non-negative integer/],
    [5, "1.5", /number "1.5"/],
    [5, "", /number ""/],
  ];
  for (const [index, value, message] of bad) {
    const args = [...ok] as [string, string, string, string, string, string];
    args[index] = value;
    assert.throws(() => new Bet(...args), message, `${index}=${value}`);
  }
});

Deno.test("a refused value is quoted by its first 40 characters, however long", () => {
  const cases: [number, string][] = [
    [3, "99999" + "x".repeat(8120)],
    [4, "1999-03-17" + "y".repeat(500)],
    [5, "7".repeat(100)],
    [3, "😀".repeat(100)],
  ];
  for (const [index, value] of cases) {
    const args = [...ok] as [string, string, string, string, string, string];
    args[index] = value;
    assert.throws(() => new Bet(...args), (error: Error) => {
      const quoted = Array.from(value).slice(0, 40).join("");
      assert.ok(error.message.includes(`"${quoted}…"`), error.message);
      assert.ok(error.message.length < 200, error.message);
      return true;
    });
  }
  // Short values are quoted whole.
  const args = [...ok] as [string, string, string, string, string, string];
  args[3] = "x".repeat(40);
  assert.throws(() => new Bet(...args), new RegExp(`"${"x".repeat(40)}" is`));
});

Deno.test("names with C1 controls or line separators and birthdates after today are refused", () => {
  for (const name of ["A\u0085", "x\u2028", "B\u2029C", "\u0080x"]) {
    assert.throws(
      () => new Bet(1, name, "B", "1", "2000-01-01", "1", "2026-12-01"),
      /first_name contains a control character/,
      JSON.stringify(name),
    );
  }
  const wire = {
    firstName: "A",
    lastName: "B",
    document: "1",
    birthdate: "2026-12-02",
    number: "1",
  };
  assert.throws(
    () => Bet.fromWire(1, wire, "2026-12-01"),
    /birthdate "2026-12-02" is in the future/,
  );
  assert.equal(Bet.fromWire(1, wire, "2026-12-02").birthdate, "2026-12-02");
  assert.equal(currentDay(Date.UTC(2026, 11, 1, 23, 59)), "2026-12-01");
  assert.equal(currentDay(Date.UTC(2026, 11, 2)), "2026-12-02");
});
