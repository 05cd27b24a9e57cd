/**
 * A lower bound for ingest in this runtime: the least work the system's
 * guarantees ask for, done by the simplest Deno programs, timed beside the
 * physical floor of `deno task bench` on the same files.
 *
 *   deno task bench:minimal [--scenario AxB] [--runs N] [--no-checks]
 *
 * (default 5x1000000, 3 runs; `--no-checks` skips the line checks on both
 * sides, to see what they cost).
 *
 * Each sender (`minimal_sender.ts`: one Deno process per file, as an
 * agency is, on one V8 thread) checks every line with the central's own
 * check and hashes the file with SHA-256, then sends it in frames of whole
 * lines of at most 8 kB (the course's batch limit), a length before each,
 * many frames to a write. One receiver, this file run as
 * `receive SENDERS TARGET on|off`, reads 256 kB at a time, checks and
 * hashes every frame, appends it, and `fdatasync`s every 4 MB and at the
 * end. No opening exchange, agency prefix, acknowledgement, exactly-once
 * ledger or log: what a real implementation does on top. Seconds run from
 * the first sender's start to the receiver's exit; CPU is the senders' and
 * the receiver's (which reports its own).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { currentDay } from "../lib/bet.ts";
import { BufferedReader } from "../protocol/buffered_reader.ts";
import { measureFloor } from "./bench_floor.ts";
import { Lines } from "./processes.ts";
import { cpuSeconds } from "./bench_proc.ts";
import { writeScenarioFiles } from "./sample_bets.ts";
import { checkLines, FRAME } from "./minimal_sender.ts";

const SYNC_EVERY = 4 * 1024 * 1024;
/** The receiver's read buffer: more than a frame, fewer reads. */
const READ_BUFFER = 256 * 1024;
/**
 * A sender is a Deno process per file; above this many agencies the
 * benchmark pools its agencies, and the comparison would not hold.
 */
const MAX_AGENCIES = 200;
/** The files are generated in memory first, each as one string. */
const MAX_BETS = 10_000_000;
const SELF = fileURLToPath(import.meta.url);
/**
 * V8 on one thread: no compiler or GC helper threads to start, 15% less
 * CPU for a hundred short senders, the same for five long ones.
 */
const SENDER_FLAGS = ["--v8-flags=--single-threaded"];
const SENDER = fileURLToPath(new URL("minimal_sender.ts", import.meta.url));

/** The receiver: `senders` connections; every frame checked, hashed, appended. */
async function receive(
  senders: number,
  target: string,
  checks: boolean,
): Promise<void> {
  const today = currentDay();
  using out = await Deno.open(target, { write: true, create: true });
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`port ${(listener.addr as Deno.NetAddr).port}`);
  let unsynced = 0;
  const serve = async (conn: Deno.Conn) => {
    using _ = conn;
    const hash = createHash("sha256");
    const reader = new BufferedReader(conn, READ_BUFFER);
    for (let length; (length = await reader.readExact(4)) !== null;) {
      const size = new DataView(length.buffer, length.byteOffset).getUint32(0);
      if (size > FRAME) throw new RangeError(`Cannot ingest a ${size} B frame`);
      const body = await reader.readExact(size);
      if (body === null) throw new Error("Cannot ingest: a frame was cut");
      if (checks) checkLines(body, today);
      hash.update(body);
      for (let rest = body; rest.length > 0;) {
        rest = rest.subarray(out.writeSync(rest));
      }
      if ((unsynced += size) >= SYNC_EVERY) {
        unsynced = 0;
        out.syncDataSync();
      }
    }
    hash.digest();
  };
  const served: Promise<void>[] = [];
  for (let k = 0; k < senders; k++) served.push(serve(await listener.accept()));
  await Promise.all(served);
  out.syncDataSync();
  // Its own CPU, for the driver: it may be reaped before the last sender.
  console.log(`cpu ${cpuSeconds("self")}`);
}

/** Seconds and CPU seconds of one minimal ingest of `files`. */
async function minimal(files: string[], target: string, checks: boolean) {
  const mode = checks ? "on" : "off";
  const cpuBefore = cpuSeconds("self", true);
  const receiver = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      SELF,
      "receive",
      String(files.length),
      target,
      mode,
    ],
    stdin: "null",
    stdout: "piped",
  }).spawn();
  const out = new Lines(receiver.stdout, null);
  const port = await out.waitFor(/^port \d+$/).then((line) => line.slice(5));
  const started = performance.now();
  const sent = await Promise.all(
    files.map((file) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-net",
          ...SENDER_FLAGS,
          SENDER,
          file,
          port,
          mode,
        ],
        stdin: "null",
        stdout: "null",
        // A sender's error is the one line that says why a run failed.
        stderr: "inherit",
      }).output()
    ),
  );
  // A sender that failed may never have connected: the receiver would wait.
  if (sent.some((s) => !s.success)) receiver.kill();
  const status = await receiver.status;
  await out.done;
  const cpu = out.all.find((line) => line.startsWith("cpu "));
  const receiverCpu = Number(cpu?.slice(4));
  const seconds = (performance.now() - started) / 1000;
  if (!status.success || sent.some((s) => !s.success) || cpu === undefined) {
    throw new Error("Cannot report the minimal ingest: a process failed");
  }
  const sendersCpu = cpuSeconds("self", true) - cpuBefore - receiverCpu;
  return { seconds, sendersCpu, receiverCpu };
}

/** Generates the scenario's files, then times floor and minimal in turn. */
async function main(
  scenario: string,
  runs: number,
  checks: boolean,
): Promise<void> {
  const [agencies, perAgency] = scenario.split("x").map(Number) as [
    number,
    number,
  ];
  const dir = await Deno.makeTempDir({ prefix: "tp0-minimal-" });
  try {
    const { files } = await writeScenarioFiles(dir, agencies, perAgency);
    console.log(
      "| run | floor s | minimal s | × floor | CPU s, receiver / senders | senders' CPU µs per bet |",
    );
    console.log("|---|---|---|---|---|---|");
    for (let run = 1; run <= runs; run++) {
      const floor = await measureFloor(files, join(dir, "floor.bin"));
      const out = join(dir, `out${run}.bin`);
      const { seconds, sendersCpu, receiverCpu } = await minimal(
        files,
        out,
        checks,
      );
      await Deno.remove(out);
      const perBet = sendersCpu * 1e6 / (agencies * perAgency);
      console.log(
        `| ${run} | ${floor.toFixed(2)} | ${seconds.toFixed(2)} | ${
          (seconds / floor).toFixed(1)
        } | ${receiverCpu.toFixed(2)} / ${sendersCpu.toFixed(2)} | ${
          perBet.toFixed(2)
        } |`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The driver's options; throws a `TypeError` whose message is the line to print. */
function driverArgs(args: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        scenario: { type: "string", default: "5x1000000" },
        runs: { type: "string", default: "3" },
        "no-checks": { type: "boolean", default: false },
      },
    });
  } catch (error) {
    const [line] = (error as Error).message.split("\n");
    throw new TypeError(`Cannot run: ${line}`, { cause: error });
  }
  const { scenario, runs, "no-checks": noChecks } = parsed.values;
  const sizes = /^([1-9]\d*)x([1-9]\d*)$/.exec(scenario);
  if (
    sizes === null || Number(sizes[1]) > MAX_AGENCIES ||
    Number(sizes[1]) * Number(sizes[2]) > MAX_BETS
  ) {
    throw new TypeError(
      `Cannot run scenario ${
        JSON.stringify(scenario)
      }: use AxB, at most ${MAX_AGENCIES} agencies and ${MAX_BETS} bets`,
    );
  }
  if (!/^([1-9]|1\d|20)$/.test(runs)) {
    throw new TypeError(`Cannot run: --runs is 1 to 20, not ${runs}`);
  }
  return { scenario, runs: Number(runs), checks: !noChecks };
}

const [role, ...rest] = Deno.args;
if (role === "receive") {
  const [senders, target, mode] = rest;
  if (
    !/^[1-9]\d*$/.test(senders ?? "") || target === undefined ||
    (mode !== "on" && mode !== "off") || rest.length > 3
  ) {
    console.error("Cannot receive: use receive SENDERS TARGET on|off");
    Deno.exit(2);
  }
  await receive(Number(senders), target, mode === "on");
} else {
  let options;
  try {
    options = driverArgs(Deno.args);
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(2);
  }
  await main(options.scenario, options.runs, options.checks);
}
