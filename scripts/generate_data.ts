/**
 * Writes the project's own sample data: `.data/agency-1.csv` …
 * `agency-5.csv`, deterministic, CRLF like the course's files.
 *
 *   deno task generate-data [--out DIR] [--agencies N] [--bets B] [--winners W1,W2,…]
 *
 * Agency K gets B bets (default 600 − 100·(K−1)) and WK winners (default K).
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { sampleAgency } from "./sample_bets.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string", default: ".data" },
    agencies: { type: "string", default: "5" },
    bets: { type: "string" },
    winners: { type: "string" },
  },
});
const agencies = Number(values.agencies);
if (!Number.isInteger(agencies) || agencies < 1) {
  console.error(
    `Cannot generate data: --agencies "${values.agencies}" is not a positive integer`,
  );
  Deno.exit(2);
}
await Deno.mkdir(values.out, { recursive: true });
for (let k = 1; k <= agencies; k++) {
  const count = values.bets === undefined
    ? Math.max(100, 600 - 100 * (k - 1))
    : Number(values.bets);
  const wanted = values.winners === undefined
    ? k
    : Number(values.winners.split(",")[k - 1] ?? 0);
  const { lines, winners } = sampleAgency(k, count, wanted);
  const path = join(values.out, `agency-${k}.csv`);
  await Deno.writeTextFile(path, lines.join("\r\n") + "\r\n");
  console.log(`${path}: ${lines.length} bets, ${winners.length} winners`);
}
