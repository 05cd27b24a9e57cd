/**
 * Runs the central and agencies as real processes for the system tests:
 * ephemeral 127.0.0.1 ports, temporary storage, output collected line by
 * line, and waits that are log-line or exit waits with deadlines (never
 * fixed sleeps).
 */
import { join } from "node:path";
import {
  agencyProcess,
  CentralProcess,
  type Program,
  ROOT,
} from "../scripts/processes.ts";
import { sampleAgency } from "../scripts/sample_bets.ts";

export {
  HARNESS_SECRET,
  harnessKey,
  Lines,
  Program,
  ROOT,
} from "../scripts/processes.ts";

/**
 * The bet stage's sample bet as environment variables: what
 * generar-compose.sh gives agency 1 (agency K gets DOCUMENTO + K - 1).
 */
export const SAMPLE_BET = {
  NOMBRE: "Santiago Lionel",
  APELLIDO: "Lorca",
  DOCUMENTO: "30904465",
  NACIMIENTO: "1999-03-17",
  NUMERO: "7574",
} as const;

/** The course dataset, beside the project. */
export const DATASET: string = join(ROOT, "..", "shared", "tp0-dataset");

const VERBOSE = Deno.env.get("TEST_VERBOSE") !== undefined;

/** A central on an ephemeral port with its own storage directory. */
export class Central extends CentralProcess {
  /**
   * Starts a central on `storageDir`, echoing its output when
   * `TEST_VERBOSE` is set.
   *
   * @param storageDir the storage directory
   * @param env extra environment variables
   * @param args extra arguments
   */
  constructor(
    storageDir: string,
    env: Record<string, string> = {},
    args: string[] = [],
  ) {
    super(storageDir, { env, args, echo: VERBOSE });
  }
}

/** Starts an agency against `port` with `CLI_*` settings. */
export function agency(
  id: number,
  port: number,
  env: Record<string, string> = {},
): Program {
  return agencyProcess(id, port, { env, echo: VERBOSE });
}

/** What {@linkcode writeSampleFiles} wrote. */
export interface SampleFiles {
  /** Every row the central must end up with, `agency,…`, in no order. */
  readonly rows: string[];
  /** The number of winners of agency K, at index K − 1. */
  readonly winners: number[];
}

/**
 * Writes `agency-1.csv` … `agency-N.csv` into `dir`, `bets` sample bets each
 * (agency K with K % 4 winners), deterministic for `seed`.
 */
export async function writeSampleFiles(
  dir: string,
  agencies: number,
  bets: number,
  seed: number,
): Promise<SampleFiles> {
  const rows: string[] = [];
  const winners: number[] = [];
  for (let k = 1; k <= agencies; k++) {
    const sample = sampleAgency(k, bets, k % 4, seed);
    await Deno.writeTextFile(
      join(dir, `agency-${k}.csv`),
      sample.lines.join("\n") + "\n",
    );
    for (const line of sample.lines) rows.push(`${k},${line}`);
    winners.push(sample.winners.length);
  }
  return { rows, winners };
}

/**
 * Starts agencies 1…N against `port`, agency K loading `dir/agency-K.csv` in
 * batches of 10 (many frames, so a test can act while they load).
 */
export function loadingAgencies(
  port: number,
  dir: string,
  agencies: number,
): Program[] {
  return Array.from({ length: agencies }, (_, i) =>
    agency(i + 1, port, {
      CLI_DATA_PATH: join(dir, `agency-${i + 1}.csv`),
      CLI_BATCH_MAXAMOUNT: "10",
    }));
}

/**
 * True if a process with this pid exists. (The central reaps its workers, so
 * a stopped worker does not linger as a zombie.)
 */
export function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Waits, polling, until `predicate` holds or the deadline passes. */
export async function until(
  predicate: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting until ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A fresh temporary directory, removed on dispose. */
export async function tempDir(
  prefix: string,
): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/** The value of `key: value` in a log line. */
export function field(line: string, key: string): string {
  const match = new RegExp(`\\| ${key}: ([^|]*?)(?: \\||$)`).exec(line);
  if (match === null) throw new Error(`No field ${key} in: ${line}`);
  return match[1]!;
}
