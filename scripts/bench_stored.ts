/**
 * The benchmark's scenarios over a stored bets.csv, without agencies:
 * `drawN` (the draw's reading of N stored bets) and `startupN` (the
 * start-up check of N stored bets against the ledger's MACs, beside
 * the floor of reading the same file with `cat` and hashing it with
 * `sha256sum`, measured in the same run).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Ledger } from "../server/store/ledger.ts";
import { ledgerKey } from "../server/store/ledger_mac.ts";
import { decodeLedgerRecords } from "../server/store/ledger_record.ts";
import { drawWinners } from "../server/store/parallel_draw.ts";
import { verifyBets } from "../server/store/verify_bets.ts";

/** The ledger key of the start-up benchmark (any secret will do). */
const KEY = ledgerKey("the start-up benchmark's secret, 32 chars or more");
/** What a stored-bets scenario measured (a row of the bench's table). */
export interface StoredResult {
  /** Its name, `drawN` or `startupN`. */
  scenario: string;
  /** Agencies whose rows the file holds. */
  agencies: number;
  /** Rows in the file. */
  bets: number;
  /** What was timed, in seconds. */
  seconds: number;
  /** Rows per second of that. */
  betsPerSecond: number;
  /** The draw's reading, ms (0 when not a draw). */
  drawMs: number;
  /** `startupN`: `cat bets.csv > /dev/null`, ms. */
  floorCatMs?: number;
  /** `startupN`: `sha256sum bets.csv`, ms. */
  floorSha256Ms?: number;
}

const AGENCIES = 5;
/** Rows of one agency in a row, as a batch of the default size stores them. */
const RUN = 100;
/** Agencies' batches per group commit. */
const GROUP = 10;

/**
 * Writes `rows` bets in stored form to `path`, batches of {@linkcode RUN}
 * rows of five agencies in turn (a winner every 9,973 rows), calling
 * `commit` after every {@linkcode GROUP} batches with what they appended.
 * Returns the winners per agency.
 */
async function writeStoredBets(
  path: string,
  rows: number,
  commit: (bytes: Uint8Array) => Promise<void> = async () => {},
): Promise<Map<number, number>> {
  const expected = new Map<number, number>();
  using file = await Deno.open(path, { write: true, create: true });
  const encoder = new TextEncoder();
  let chunk = "";
  for (let i = 0; i < rows; i++) {
    const agency = 1 + Math.floor(i / RUN) % AGENCIES;
    const wins = i % 9973 === 0;
    if (wins) expected.set(agency, (expected.get(agency) ?? 0) + 1);
    const n = wins ? 7574 : (i * 7919) % 7000;
    chunk += `${agency},José María,Pérez,${30_000_000 + i},1990-05-17,${n}\n`;
    if ((i + 1) % (RUN * GROUP) === 0 || i === rows - 1) {
      let bytes = encoder.encode(chunk);
      await commit(bytes);
      while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
      chunk = "";
    }
  }
  return expected;
}

/**
 * The draw alone over `rows` stored bets: times the draw's reading of it
 * (`drawWinners`, the whole of the draw but writing the winners file and
 * the draw's record), once, right after writing it (page cache warm, code
 * cold). Checks the winners first.
 */
export async function runDraw(
  name: string,
  rows: number,
): Promise<StoredResult> {
  return await inTempDir(async (dir) => {
    const path = join(dir, "bets.csv");
    const expected = await writeStoredBets(path, rows);
    const started = performance.now();
    const winners = await drawWinners(path);
    const ms = performance.now() - started;
    for (const [agency, n] of expected) {
      if (winners.get(agency)?.length !== n) {
        throw new Error(
          `Cannot report ${name}: agency ${agency} got ${
            winners.get(agency)?.length ?? 0
          } winners, expected ${n}`,
        );
      }
    }
    return result(name, rows, ms, { drawMs: ms });
  });
}

/**
 * The start-up check over `rows` stored bets: writes bets.csv and a
 * ledger whose commits record each agency's rows' digest (as the central's
 * group commits do), then times reading the ledger and checking every row
 * against it (`verifyBets`), and, as the floor, `cat` and `sha256sum` of
 * the same file, each once, page cache warm. Refuses to report a check
 * that fails on intact data or passes on a changed byte.
 */
export async function runStartup(
  name: string,
  rows: number,
): Promise<StoredResult> {
  return await inTempDir(async (dir) => {
    const path = join(dir, "bets.csv");
    const ledgerPath = join(dir, "ledger.bin");
    {
      using ledger = Ledger.open(ledgerPath, KEY);
      const counts = new Map<number, number>();
      let size = 0;
      await writeStoredBets(path, rows, async (bytes) => {
        const changed = new Map();
        const hashes = new Map<number, ReturnType<typeof createHash>>();
        for (let at = 0; at < bytes.length;) {
          const agency = bytes[at]! - 0x30;
          let end = at;
          for (let k = 0; k < RUN && end < bytes.length; k++) {
            end = bytes.indexOf(0x0a, end) + 1;
          }
          counts.set(agency, (counts.get(agency) ?? 0) + RUN);
          changed.set(agency, {
            bets: counts.get(agency)!,
            singles: 0,
            finished: false,
          });
          if (!hashes.has(agency)) hashes.set(agency, createHash("sha256"));
          hashes.get(agency)!.update(bytes.subarray(at, end));
          at = end;
        }
        const digests = new Map<number, Uint8Array>();
        for (const [agency, hash] of hashes) digests.set(agency, hash.digest());
        size += bytes.length;
        await ledger.commit(changed, size, new Map(), digests);
      });
    }
    const catMs = await timed("cat", path);
    const sha256Ms = await timed("sha256sum", path);
    const started = performance.now();
    const { commits } = decodeLedgerRecords(await Deno.readFile(ledgerPath));
    await verifyBets(path, "bets.csv", commits, KEY);
    const ms = performance.now() - started;
    await assertFindsDamage(path, commits);
    return result(name, rows, ms, {
      floorCatMs: catMs,
      floorSha256Ms: sha256Ms,
    });
  });
}

/** `fn` given a fresh temporary directory, removed after. */
async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "tp0-bench-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function assertFindsDamage(
  path: string,
  commits: Parameters<typeof verifyBets>[2],
): Promise<void> {
  using file = await Deno.open(path, { read: true, write: true });
  const at = Math.floor((await file.stat()).size / 3);
  const byte = new Uint8Array(1);
  await file.seek(at, Deno.SeekMode.Start);
  await file.read(byte);
  await file.seek(at, Deno.SeekMode.Start);
  await file.write(Uint8Array.of(byte[0]! ^ 0x01));
  const found = await verifyBets(path, "bets.csv", commits, KEY).then(
    () => false,
    () => true,
  );
  if (!found) {
    throw new Error(
      "Cannot report the start-up check: it missed a changed byte",
    );
  }
}

/** How long `command path` takes, output discarded, in ms. */
async function timed(command: string, path: string): Promise<number> {
  const started = performance.now();
  const { success } = await new Deno.Command(command, {
    args: [path],
    stdout: "null",
  }).output();
  if (!success) throw new Error(`Cannot time ${command}: it failed`);
  return performance.now() - started;
}

function result(
  scenario: string,
  bets: number,
  ms: number,
  extra: Partial<StoredResult>,
): StoredResult {
  return {
    scenario,
    agencies: AGENCIES,
    bets,
    seconds: ms / 1000,
    betsPerSecond: bets / (ms / 1000),
    drawMs: 0,
    ...extra,
  };
}
