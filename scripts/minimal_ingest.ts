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
 * Each sender (one Deno process per file, as an agency is) checks every
 * line with the central's own check and hashes the file with SHA-256, then
 * sends it in frames of whole lines of at most 8 kB (the course's batch
 * limit), a length before each; a file over 16 MB is read twice, as the
 * agency reads it. One receiver checks and hashes every frame, appends it,
 * and `fdatasync`s every 4 MB and at the end. No opening exchange, agency
 * prefix, acknowledgement, exactly-once ledger or log: what a real
 * implementation does on top. Seconds run from the first sender's start to
 * the receiver's exit; CPU is the senders' and the receiver's. The driver
 * runs this file again as `send FILE PORT on|off` and
 * `receive SENDERS TARGET on|off`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { canonicalBetLineEnd } from "../lib/bet_row.ts";
import { currentDay } from "../lib/bet.ts";
import { readLineChunks } from "../lib/line_chunks.ts";
import { READ_ONCE_LIMIT } from "../agency/bet_file.ts";
import { BufferedReader } from "../protocol/buffered_reader.ts";
import {
  READER_CAPACITY,
  READER_GROWN,
  READER_GROWS_AFTER,
} from "../server/net/session_limits.ts";
import { measureFloor } from "./bench_floor.ts";
import { Lines } from "./processes.ts";
import { cpuSeconds } from "./bench_proc.ts";
import { sampleAgency } from "./sample_bets.ts";

const FRAME = 8 * 1024;
const SYNC_EVERY = 4 * 1024 * 1024;
const CHUNK = 1 << 20;
/**
 * A sender is a Deno process per file; above this many agencies the
 * benchmark pools its agencies, and the comparison would not hold.
 */
const MAX_AGENCIES = 200;
const SELF = fileURLToPath(import.meta.url);

/** Checks every line of `bytes[0, end)`; throws at the first that is not a bet. */
function check(bytes: Uint8Array, end: number, today: string): void {
  for (let start = 0; start < end;) {
    const last = canonicalBetLineEnd(bytes, start, end, today);
    if (last < 0 || bytes[last] !== 0x0a) {
      throw new SyntaxError(`Cannot ingest: not a bet line at byte ${start}`);
    }
    start = last + 1;
  }
}

/** The frames of one chunk: whole lines, at most {@linkcode FRAME} bytes each. */
function* frames(bytes: Uint8Array): Generator<Uint8Array> {
  const end = bytes.length;
  for (let at = 0; at < end;) {
    const stop = end - at <= FRAME
      ? end
      : bytes.lastIndexOf(0x0a, at + FRAME - 1) + 1;
    if (stop <= at) throw new RangeError("Cannot frame a line over 8 kB");
    const frame = new Uint8Array(4 + stop - at);
    new DataView(frame.buffer).setUint32(0, stop - at);
    frame.set(bytes.subarray(at, stop), 4);
    yield frame;
    at = stop;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  while (bytes.length > 0) bytes = bytes.subarray(await conn.write(bytes));
}

/**
 * The sender: check and hash the whole file, then send it in frames; a
 * file of at most 16 MB is kept from the first read, as the agency keeps it.
 */
async function send(
  path: string,
  port: number,
  checks: boolean,
): Promise<void> {
  const today = currentDay();
  const chunks = async function* () {
    using file = await Deno.open(path);
    for await (const { bytes, end } of readLineChunks(file, CHUNK)) {
      yield bytes.subarray(0, end);
    }
  };
  const keep = (await Deno.stat(path)).size <= READ_ONCE_LIMIT;
  const kept: Uint8Array[] = [];
  const hash = createHash("sha256");
  for await (const chunk of chunks()) {
    if (checks) check(chunk, chunk.length, today);
    hash.update(chunk);
    if (keep) kept.push(chunk.slice());
  }
  hash.digest();
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  for await (const chunk of keep ? kept : chunks()) {
    for (const frame of frames(chunk)) await writeAll(conn, frame);
  }
}

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
    const reader = new BufferedReader(conn, READER_CAPACITY, {
      after: READER_GROWS_AFTER,
      to: READER_GROWN,
    });
    for (let length; (length = await reader.readExact(4)) !== null;) {
      const size = new DataView(length.buffer, length.byteOffset).getUint32(0);
      if (size > FRAME) throw new RangeError(`Cannot ingest a ${size} B frame`);
      const body = await reader.readExact(size);
      if (body === null) throw new Error("Cannot ingest: a frame was cut");
      if (checks) check(body, size, today);
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
  const role = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", SELF, ...args],
      stdin: "null",
      stdout: "piped",
    });
  const receiver = role("receive", String(files.length), target, mode).spawn();
  const out = new Lines(receiver.stdout, null);
  const port = await out.waitFor(/^port \d+$/).then((line) => line.slice(5));
  const started = performance.now();
  const sent = await Promise.all(
    files.map((file) => role("send", file, port, mode).output()),
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
    const files: string[] = [];
    for (let k = 1; k <= agencies; k++) {
      const { lines } = sampleAgency(k, perAgency, Math.min(k % 5, perAgency));
      files.push(join(dir, `agency-${k}.csv`));
      await Deno.writeTextFile(files.at(-1)!, lines.join("\n") + "\n");
    }
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
  if (sizes === null || Number(sizes[1]) > MAX_AGENCIES) {
    throw new TypeError(
      `Cannot run scenario ${
        JSON.stringify(scenario)
      }: use AxB, at most ${MAX_AGENCIES} agencies`,
    );
  }
  if (!/^([1-9]|1\d|20)$/.test(runs)) {
    throw new TypeError(`Cannot run: --runs is 1 to 20, not ${runs}`);
  }
  return { scenario, runs: Number(runs), checks: !noChecks };
}

const [role, ...rest] = Deno.args;
if (role === "send") await send(rest[0]!, Number(rest[1]), rest[2] === "on");
else if (role === "receive") {
  await receive(Number(rest[0]), rest[1]!, rest[2] === "on");
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
