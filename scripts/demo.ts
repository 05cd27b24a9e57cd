/**
 * Runs the whole system on the host, the way `make docker-compose-up` runs
 * it in containers: a central (2 workers, fresh storage in a temporary
 * directory) and 5 agencies loading `.data/agency-1.csv` … `agency-5.csv`.
 * Prints every line prefixed like `docker compose logs`, waits for every
 * agency to learn its winners, then stops the central with SIGTERM.
 *
 *   deno task demo [--agencies N] [--data DIR] [--keep]
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
  central.kill("SIGTERM");
  console.log(`server exited with code ${await central.exit(30_000)}`);
}
if (!values.keep) await Deno.remove(storage, { recursive: true });
Deno.exit(failed === 0 ? 0 : 1);
