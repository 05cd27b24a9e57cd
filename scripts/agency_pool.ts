/**
 * Many agencies in one process, for the benchmark's `1000x1000` scenario:
 * 1,000 Deno processes do not fit this machine (see docs/performance.md). Each
 * agency runs the agency's own lottery stage and client (the same code the
 * `agency` program runs, with its default batch size and window), with its
 * own connection; only the process is shared.
 *
 *   deno run --allow-net --allow-read scripts/agency_pool.ts \
 *     --port P --first 1 --count 50 --dir DIR
 *
 * with the central's secret in `AUTH_SECRET` (the pool stands in for every
 * agency: it derives each one's key from it), reads DIR/agency-K.csv for
 * each agency K, prints one line per agency when
 * it has its winners (`pool_agency | id: K | apuestas: N | cant_ganadores:
 * W | ack_p50_ms: … | ack_p99_ms: …`), and exits 1 if any agency failed.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CentralClient } from "../agency/central_client.ts";
import { DEFAULT_BATCH_MAX_AMOUNT } from "../agency/config.ts";
import { runLotteryStage } from "../agency/lottery_stage.ts";
import { agencyKey } from "../lib/agency_auth.ts";
import type { ActionLog, Fields } from "../lib/log.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    first: { type: "string", default: "1" },
    count: { type: "string", default: "1" },
    dir: { type: "string" },
  },
});
const port = Number(values.port);
const first = Number(values.first);
const count = Number(values.count);
if (!Number.isInteger(port) || values.dir === undefined || !(count > 0)) {
  console.error("usage: agency_pool.ts --port P --first K --count N --dir DIR");
  Deno.exit(2);
}
const dir = values.dir;
const secret = Deno.env.get("AUTH_SECRET");
if (secret === undefined) {
  console.error("agency_pool.ts: AUTH_SECRET is not set");
  Deno.exit(2);
}

const stop = new AbortController();
const results = await Promise.allSettled(
  Array.from({ length: count }, async (_, i) => {
    const id = first + i;
    let sendLine: Fields = {};
    const errors: string[] = [];
    const log: ActionLog = {
      debug() {},
      info(action, _result, fields = {}) {
        if (action === "envio_apuestas") sendLine = fields;
      },
      warning() {},
      error(action, _result, fields = {}) {
        errors.push(`${action}: ${JSON.stringify(fields)}`);
      },
    };
    using client = new CentralClient("127.0.0.1", port, log, stop.signal, {
      key: await agencyKey(secret, id),
    });
    const result = await runLotteryStage({
      id,
      dataPath: join(dir, `agency-${id}.csv`),
      batchMaxAmount: DEFAULT_BATCH_MAX_AMOUNT,
      // Fifty agencies a process, a thousand in all: a short period would
      // have the finished ones flood the central with pending queries.
      periodMs: 250,
      client,
      log,
      stop: stop.signal,
    });
    console.log(
      `pool_agency | id: ${id} | apuestas: ${result.sent} | cant_ganadores: ${result.winners.length} | ack_p50_ms: ${
        sendLine.ack_p50_ms ?? 0
      } | ack_p99_ms: ${sendLine.ack_p99_ms ?? 0}`,
    );
  }),
);
let failed = 0;
for (const [i, result] of results.entries()) {
  if (result.status === "rejected") {
    failed++;
    console.error(`agency ${first + i}: ${result.reason}`);
  }
}
Deno.exit(failed === 0 ? 0 : 1);
