/**
 * Runs the whole system on the host, the way `make docker-compose-up` runs
 * it in containers: a central (2 workers, fresh storage in a temporary
 * directory) and 5 agencies loading `.data/agency-1.csv` … `agency-5.csv`.
 * Prints every line prefixed like `docker compose logs`, waits for every
 * agency to learn its winners, stops the central with SIGTERM, and ends
 * with a table: bets stored and winners per agency, the total, the time.
 *
 *   deno task demo [--agencies N] [--data DIR] [--keep]
 *
 * --agencies N  how many agencies (default 5; agency K loads DIR/agency-K.csv)
 * --data DIR    where the agencies' files are (default .data)
 * --keep        keep the storage directory (bets.csv, winners.json) afterwards
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  agencyProcess,
  CentralProcess,
  type Program,
  ROOT,
} from "./processes.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    agencies: { type: "string", default: "5" },
    data: { type: "string", default: join(ROOT, ".data") },
    keep: { type: "boolean", default: false },
  },
});
const agencies = Number(values.agencies);
if (!Number.isInteger(agencies) || agencies < 1) {
  console.error(
    `Cannot run the demo: --agencies "${values.agencies}" is not a positive integer`,
  );
  Deno.exit(2);
}
const storage = await Deno.makeTempDir({ prefix: "tp0-demo-" });
console.log(`storage directory: ${storage}`);

let failed = 0;
{
  await using central = new CentralProcess(storage, {
    name: "server",
    args: ["--agencies", String(agencies)],
    echo: true,
  });
  const port = await central.ready(60_000);
  const started = performance.now();
  const clients: Program[] = [];
  for (let k = 1; k <= agencies; k++) {
    clients.push(
      agencyProcess(k, port, {
        name: `client${k}`,
        env: {
          CLI_DATA_PATH: join(values.data, `agency-${k}.csv`),
          CLI_LOOP_PERIOD: "500ms",
        },
        echo: true,
      }),
    );
  }
  for (const [i, client] of clients.entries()) {
    const code = await client.exit(600_000);
    console.log(`client${i + 1} exited with code ${code}`);
    if (code !== 0) failed++;
  }
  const seconds = (performance.now() - started) / 1000;
  central.kill("SIGTERM");
  console.log(`server exited with code ${await central.exit(30_000)}`);
  console.log(summary(central.stdout.all, clients, seconds));
}
console.log(
  values.keep
    ? `results: ${storage} (bets.csv: every bet stored; winners.json: the draw)`
    : `results: ${storage} removed (deno task demo --keep keeps bets.csv and winners.json)`,
);
if (!values.keep) await Deno.remove(storage, { recursive: true });
Deno.exit(failed === 0 ? 0 : 1);

/** The closing table: per agency the bets the central stored and its winners. */
function summary(
  centralLines: readonly string[],
  clients: readonly Program[],
  seconds: number,
): string {
  const field = (line: string | undefined, name: string) =>
    line === undefined
      ? undefined
      : new RegExp(`\\| ${name}: (\\d+)`).exec(line)?.[1];
  const rows = clients.map((client, i) => {
    const stored = centralLines.find((line) =>
      line.includes("action: agencia_finalizada | result: success") &&
      field(line, "agencia") === String(i + 1)
    );
    const winners = client.stdout.matching(
      /action: consulta_ganadores \| result: success/,
    )[0];
    return [
      `agency ${i + 1}`,
      field(stored, "apuestas") ?? "?",
      field(winners, "cant_ganadores") ?? "?",
    ];
  });
  const total = (column: number) =>
    rows.reduce((sum, row) => sum + (Number(row[column]) || 0), 0);
  const table = [
    ["", "bets stored", "winners"],
    ...rows,
    ["total", String(total(1)), String(total(2))],
  ];
  const widths = [0, 1, 2].map((c) =>
    Math.max(...table.map((row) => row[c]!.length))
  );
  const lines = table.map((row) =>
    row.map((cell, c) =>
      c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)
    )
      .join("  ")
  );
  return `\n${lines.join("\n")}\ntime: ${
    seconds.toFixed(2)
  } s (first agency started → last agency exited)`;
}
