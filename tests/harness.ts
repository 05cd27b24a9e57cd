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

export {
  HARNESS_SECRET,
  harnessKey,
  Lines,
  Program,
  ROOT,
} from "../scripts/processes.ts";

/** The course dataset, beside the project. */
export const DATASET = join(ROOT, "..", "shared", "tp0-dataset");

const VERBOSE = Deno.env.get("TEST_VERBOSE") !== undefined;

/** A central on an ephemeral port with its own storage directory. */
export class Central extends CentralProcess {
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
