/**
 * The benchmark: a central (default configuration; above 200 agencies a
 * listen backlog of A: see docs/performance.md) and A agencies as
 * separate processes on 127.0.0.1, each loading B bets. It checks the run
 * (rows stored, winners per agency) and refuses to report a wrong one, then
 * prints a table and writes JSON.
 *
 *   deno task bench [--scenario NAME ...] [--json FILE] [--metrics off|on|both]
 *
 * Scenarios: `dataset` (the course's files in ../shared/tp0-dataset),
 * `5x1000000`, `100x100000`, `1000x1000`, or any `AxB` (synthetic,
 * deterministic, with known winners; above 200 agencies they run in pools of
 * 50 per process), `drawN` (the draw alone over N stored bets) and
 * `startupN` (the start-up check of N stored bets, beside `cat` and
 * `sha256sum` of the same file): `bench_stored.ts`, and `pg-AxB`, `pg2-AxB`
 * (the same on PostgreSQL: one central; two and a synchronous standby:
 * `bench_pg.ts`). Default: the four issue
 * scenarios, `draw10000000` and `startup10000000`. `--metrics on` runs the
 * central with `METRICS_PORT` and scrapes it every second (the last scrape
 * must agree with bets.csv); `both` runs each scenario off, then on.
 * Each ingest scenario's physical floor is measured first on the same files
 * (`bench_floor.ts`) and printed with the ratio to it; a scenario whose input
 * is missing is skipped with one line naming it.
 * Measured: end-to-end time (first agency started → last agency exited with
 * its winners), bets per second, batch acknowledgement latency (p50, p99 of
 * the agencies' own measurements; the worst agency's), the draw's duration,
 * the central's peak memory (supervisor plus workers: the peak of their
 * summed PSS, which counts the pages they share once; and, for comparison,
 * their peak resident sets summed, which counts the shared Deno binary in
 * each), and the largest agency process's peak resident set, sampled from
 * /proc (which is why the task runs with --allow-all: Deno grants /proc only
 * to it).
 */
import { join } from "node:path";
import {
  agencyProcess,
  CentralProcess,
  HARNESS_SECRET,
  Program,
  ROOT,
} from "./processes.ts";
import { runDraw, runStartup, type StoredResult } from "./bench_stored.ts";
import { cpuSeconds, MemorySampler } from "./bench_proc.ts";
import { writeScenarioFiles } from "./sample_bets.ts";
import { freeMetricsPort, MetricsScraper } from "./bench_metrics.ts";
import { measureFloor } from "./bench_floor.ts";
import { benchDatabase } from "./bench_pg.ts";
import { benchArgs, checkResultsPath } from "./bench_args.ts";

const DATASET = join(ROOT, "..", "shared", "tp0-dataset");
/**
 * Agency processes this machine can hold at once (their size is in
 * docs/performance.md). Above it, agencies run in pools of {@linkcode POOL_SIZE} per process
 * (`scripts/agency_pool.ts`: the agency's own code, one connection each).
 */
const MAX_AGENCY_PROCESSES = 200;
const POOL_SIZE = 50;

interface Result extends StoredResult {
  ackP50Ms: number;
  ackP99Ms: number;
  /** Peak of the central's processes' summed PSS. */
  centralPeakMb: number;
  /** The central's processes' peak resident sets, summed (shared pages counted in each). */
  centralRssSumMb: number;
  agencyPeakMb: number;
  /** CPU time of the central's processes over their life (start-up included). */
  centralCpuSeconds: number;
  /** CPU time of the agency processes, summed. */
  agenciesCpuSeconds: number;
  /** The scenario's physical floor, seconds (`bench_floor.ts`), if it has one. */
  floorSeconds?: number;
}

/** The columns a scenario without agency processes leaves at 0. */
const NO_PROCESSES = {
  ackP50Ms: 0,
  ackP99Ms: 0,
  centralPeakMb: 0,
  centralRssSumMb: 0,
  agencyPeakMb: 0,
  centralCpuSeconds: 0,
  agenciesCpuSeconds: 0,
};

const { scenarios, json, metrics: metricsMode } = (() => {
  try {
    const args = benchArgs(Deno.args);
    checkResultsPath(args.json);
    return args;
  } catch (error) {
    console.error((error as Error).message);
    return Deno.exit(2);
  }
})();

/** What a scenario's input lacks (one line), or `null` when it is all there. */
async function missingInput(name: string): Promise<string | null> {
  if (name !== "dataset") return null;
  for (let k = 1; k <= 5; k++) {
    const file = join(DATASET, `agency-${k}.csv`);
    try {
      await Deno.stat(file);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return `${file} is missing`;
      throw error;
    }
  }
  return null;
}

async function prepare(
  name: string,
  dir: string,
): Promise<{ files: string[]; winners: number[]; bets: number }> {
  if (name === "dataset") {
    const files = [1, 2, 3, 4, 5].map((k) => join(DATASET, `agency-${k}.csv`));
    let bets = 0;
    const winners: number[] = [];
    for (const file of files) {
      const lines = (await Deno.readTextFile(file)).split(/\r?\n/).filter((l) =>
        l !== ""
      );
      bets += lines.length;
      winners.push(lines.filter((l) => l.endsWith(",7574")).length);
    }
    return { files, winners, bets };
  }
  const match = /^(\d+)x(\d+)$/.exec(name);
  if (match === null) {
    throw new Error(`Cannot run scenario "${name}": use dataset or AxB`);
  }
  const [agencies, perAgency] = [Number(match[1]), Number(match[2])];
  const { files, winners } = await writeScenarioFiles(dir, agencies, perAgency);
  return { files, winners, bets: agencies * perAgency };
}

async function run(name: string, metrics = false): Promise<Result> {
  const stored = /^(draw|startup)(\d+)$/.exec(name);
  if (stored !== null) {
    const [, kind, rows] = stored;
    const result = await (kind === "draw" ? runDraw : runStartup)(
      name,
      Number(rows),
    );
    // The start-up check's floor is sha256sum of the same file; the draw has none.
    const sha256Ms = result.floorSha256Ms;
    return {
      ...NO_PROCESSES,
      ...result,
      ...(sha256Ms === undefined ? {} : { floorSeconds: sha256Ms / 1000 }),
    };
  }
  const metricsPort = metrics ? freeMetricsPort() : 0;
  const dir = await Deno.makeTempDir({ prefix: "tp0-bench-" });
  const pg = await benchDatabase(name);
  await using _database = pg?.database ?? null;
  try {
    const { files, winners, bets } = await prepare(pg?.base ?? name, dir);
    const floorFile = join(dir, "floor.bin");
    const floorSeconds = await measureFloor(files, floorFile);
    await Deno.remove(floorFile);
    // A second central (`pg2-`), on the same database, takes half the agencies.
    await using second = (pg?.database.centrals ?? 1) < 2
      ? null
      : new CentralProcess(join(dir, "storage2"), {
        env: { DATABASE_URL: pg!.database.url },
        args: ["--agencies", String(files.length)],
      });
    await using central = new CentralProcess(join(dir, "storage"), {
      env: pg === null ? {} : { DATABASE_URL: pg.database.url },
      // A thousand agencies connecting at once overflow the course's
      // backlog of 5, and the kernel's SYN retries (1, 3, 7, 15, 31 s) would
      // time the run: an operator expecting them sizes the backlog.
      args: [
        "--agencies",
        String(files.length),
        ...(files.length > MAX_AGENCY_PROCESSES
          ? ["--listen-backlog", String(files.length)]
          : []),
        ...(metrics ? ["--metrics-port", String(metricsPort)] : []),
      ],
    });
    const port = await central.ready(60_000);
    const ports = [port, ...(second === null ? [] : [await second.ready()])];
    const scraper = metrics ? new MetricsScraper(metricsPort) : null;
    // Every worker has started by the ready line. Looked up once: the
    // central's output grows by a line per batch, and scanning it on every
    // sample took a large share of the machine from the run it measures.
    const centralPids = [central, ...(second === null ? [] : [second])]
      .flatMap((c) => [c.child.pid, ...c.workerPids()]);
    const agencies: Program[] = [];
    const agencyPids: number[] = [];
    const sampler = new MemorySampler(centralPids, agencyPids);
    const pooled = files.length > MAX_AGENCY_PROCESSES;
    const childrenCpuBefore = cpuSeconds("self", true);
    const started = performance.now();
    if (pooled) {
      for (let first = 1; first <= files.length; first += POOL_SIZE) {
        const count = Math.min(POOL_SIZE, files.length - first + 1);
        agencies.push(
          new Program(`pool${first}`, "scripts/agency_pool.ts", [
            "--port",
            String(port),
            "--first",
            String(first),
            "--count",
            String(count),
            "--dir",
            dir,
          ], { AUTH_SECRET: HARNESS_SECRET }),
        );
      }
    } else {
      for (const [i, file] of files.entries()) {
        agencies.push(
          agencyProcess(i + 1, ports[i % ports.length]!, {
            env: { CLI_DATA_PATH: file, CLI_LOOP_PERIOD: "20ms" },
          }),
        );
      }
    }
    agencyPids.push(...agencies.map((a) => a.child.pid));
    const codes = await Promise.all(agencies.map((a) => a.exit(3_600_000)));
    const seconds = (performance.now() - started) / 1000;
    const agenciesCpuSeconds = cpuSeconds("self", true) - childrenCpuBefore;
    sampler.stop();
    // Correctness first: a wrong run reports nothing.
    const failed = codes.findIndex((code) => code !== 0);
    if (failed !== -1) {
      throw new Error(
        `Cannot report ${name}: process ${failed + 1} exited with ${
          codes[failed]
        }: ${agencies[failed]!.stderr.all.slice(-3).join(" / ")}`,
      );
    }
    // One line per agency with its winners and acknowledgement latency.
    const lines = pooled
      ? agencies.flatMap((a) => a.stdout.matching(/pool_agency \| id: /))
      : await Promise.all(
        agencies.map(async (agency, i) =>
          `id: ${i + 1} | ${await agency.stdout.waitFor(
            /action: consulta_ganadores \| result: success/,
            1_000,
          )} | ${agency.stdout.matching(/action: envio_apuestas/)[0] ?? ""}`
        ),
      );
    const field = (line: string, key: string) =>
      Number(new RegExp(`${key}: ([\\d.]+)`).exec(line)?.[1] ?? NaN);
    if (lines.length !== files.length) {
      throw new Error(
        `Cannot report ${name}: ${lines.length} of ${files.length} agencies reported`,
      );
    }
    for (const line of lines) {
      const id = field(line, "id");
      const got = field(line, "cant_ganadores");
      if (got !== winners[id - 1]) {
        throw new Error(
          `Cannot report ${name}: agency ${id} got ${got} winners, expected ${
            winners[id - 1]
          }`,
        );
      }
    }
    let stored = 0;
    if (pg !== null) stored = await pg.database.storedBets();
    else {
      using file = await Deno.open(join(dir, "storage", "bets.csv"));
      for await (const chunk of file.readable) {
        for (const byte of chunk) if (byte === 10) stored++;
      }
    }
    if (stored !== bets) {
      throw new Error(
        `Cannot report ${name}: ${stored} rows stored, expected ${bets}`,
      );
    }
    const worst = (key: string) =>
      Math.max(...lines.map((l) => field(l, key) || 0));
    // The central that made the draw logged it (with its duration).
    const draw = await Promise.any(
      [central, second].flatMap((c) =>
        c === null
          ? []
          : [c.stdout.waitFor(/ganadores_por_agencia.*duracion_ms/, 1_000)]
      ),
    );
    await scraper?.stop(bets, files.length);
    const centralCpuSeconds = centralPids.reduce(
      (sum, pid) => sum + cpuSeconds(pid),
      0,
    );
    for (const c of [central, second]) c?.kill("SIGTERM");
    await central.exit(30_000);
    await second?.exit(30_000);
    return {
      scenario: metrics ? `${name} metrics` : name,
      agencies: files.length,
      bets,
      seconds,
      betsPerSecond: bets / seconds,
      ackP50Ms: worst("ack_p50_ms"),
      ackP99Ms: worst("ack_p99_ms"),
      drawMs: Number(/duracion_ms: ([\d.]+)/.exec(draw)![1]),
      centralPeakMb: sampler.centralPssPeakKb / 1024,
      centralRssSumMb: centralPids.reduce((kb, pid) =>
        kb + (sampler.peaks.get(pid) ?? 0), 0) / 1024,
      agencyPeakMb: Math.max(...agencies.map((a) =>
        sampler.peaks.get(a.child.pid) ?? 0
      )) / 1024,
      centralCpuSeconds,
      agenciesCpuSeconds,
      floorSeconds,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const results: Result[] = [];
// With --metrics both, each scenario runs off then on, in turn: the pairs
// share the machine's moment, so the comparison is fair. (A draw scenario
// runs no central: once.)
const modes = metricsMode === "both" ? [false, true] : [metricsMode === "on"];
for (const name of scenarios) {
  for (const metrics of /^(draw|startup)\d+$/.test(name) ? [false] : modes) {
    const missing = await missingInput(name);
    if (missing !== null) {
      console.error(`skipping ${name}: ${missing}`);
      break;
    }
    console.error(`running ${name}${metrics ? " (metrics on)" : ""} …`);
    results.push(await run(name, metrics));
  }
}
console.log(
  "| scenario | agencies | bets | seconds | floor s | × floor | bets/s | ack p50 ms | ack p99 ms | draw ms | central peak MB (PSS) | central RSS sum MB | agency peak MB | central CPU s | agencies CPU s |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of results) {
  console.log(
    `| ${r.scenario} | ${r.agencies} | ${r.bets} | ${r.seconds.toFixed(2)} | ${
      r.floorSeconds?.toFixed(2) ?? "–"
    } | ${
      r.floorSeconds === undefined
        ? "–"
        : (r.seconds / r.floorSeconds).toFixed(1)
    } | ${Math.round(r.betsPerSecond)} | ${r.ackP50Ms.toFixed(2)} | ${
      r.ackP99Ms.toFixed(2)
    } | ${r.drawMs.toFixed(0)} | ${r.centralPeakMb.toFixed(0)} | ${
      r.centralRssSumMb.toFixed(0)
    } | ${r.agencyPeakMb.toFixed(0)} | ${r.centralCpuSeconds.toFixed(2)} | ${
      r.agenciesCpuSeconds.toFixed(2)
    } |`,
  );
}
for (const r of results.filter((r) => r.floorCatMs !== undefined)) {
  console.log(
    `\n${r.scenario}: the start-up check took ${
      (r.seconds * 1000).toFixed(0)
    } ms; cat ${r.floorCatMs!.toFixed(0)} ms, sha256sum ${
      r.floorSha256Ms!.toFixed(0)
    } ms (${(r.seconds * 1000 / r.floorSha256Ms!).toFixed(2)}× sha256sum)`,
  );
}
await Deno.mkdir(join(json, ".."), { recursive: true });
await Deno.writeTextFile(
  json,
  JSON.stringify({ date: new Date().toISOString(), results }, null, 2) + "\n",
);
console.error(`wrote ${json}`);
