/**
 * Runs the central and agencies as real processes for the system tests:
 * ephemeral 127.0.0.1 ports, temporary storage, output collected line by
 * line, and waits that are log-line or exit waits with deadlines (never
 * fixed sleeps).
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The course dataset, beside the project. */
export const DATASET = join(ROOT, "..", "shared", "tp0-dataset");

const DENO = Deno.execPath();
const CONFIG = join(ROOT, "deno.json");

/** Lines of a process's output, with waits on them. */
export class Lines {
  readonly all: string[] = [];
  #waiters: {
    test: (line: string) => boolean;
    resolve: (line: string) => void;
  }[] = [];
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>, echo: string | null) {
    this.done = (async () => {
      let pending = "";
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        pending += text;
        let lf: number;
        while ((lf = pending.indexOf("\n")) !== -1) {
          this.#push(pending.slice(0, lf), echo);
          pending = pending.slice(lf + 1);
        }
      }
      if (pending !== "") this.#push(pending, echo);
    })();
  }

  #push(line: string, echo: string | null) {
    this.all.push(line);
    if (echo !== null && Deno.env.get("TEST_VERBOSE")) {
      console.log(`${echo} | ${line}`);
    }
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.test(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  /** Lines matching `pattern`. */
  matching(pattern: RegExp): string[] {
    return this.all.filter((line) => pattern.test(line));
  }

  /** Resolves with the first line (already seen or to come) matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const seen = this.all.find((line) => pattern.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `Timed out after ${timeoutMs} ms waiting for ${pattern}; last lines:\n${
              this.all.slice(-15).join("\n")
            }`,
          ),
        );
      }, timeoutMs);
      const done = (line: string) => {
        clearTimeout(timer);
        resolve(line);
      };
      this.#waiters.push({ test: (line) => pattern.test(line), resolve: done });
    });
  }
}

/** A running program of the project. */
export class Program implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly stdout: Lines;
  readonly stderr: Lines;
  #status: Promise<Deno.CommandStatus>;

  constructor(
    name: string,
    script: string,
    args: string[],
    env: Record<string, string>,
    cwd = ROOT,
  ) {
    const permissions = script.startsWith("server/")
      ? [
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-run",
      ]
      : ["--allow-net", "--allow-read", "--allow-env"];
    this.child = new Deno.Command(DENO, {
      args: [
        "run",
        "--quiet",
        `--config=${CONFIG}`,
        ...permissions,
        join(ROOT, script),
        ...args,
      ],
      cwd,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.stdout = new Lines(this.child.stdout, name);
    this.stderr = new Lines(this.child.stderr, `${name}!`);
    this.#status = this.child.status;
  }

  /** Waits for the exit, within `timeoutMs`, and returns the exit code. */
  async exit(timeoutMs = 60_000): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `Timed out after ${timeoutMs} ms waiting for exit; last lines:\n${
                this.stdout.all.slice(-15).join("\n")
              }\n${this.stderr.all.slice(-10).join("\n")}`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      const status = await Promise.race([this.#status, timeout]);
      await Promise.all([this.stdout.done, this.stderr.done]);
      return status.code;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal if the process is still running. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.child.kill(signal);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.kill("SIGKILL");
    await this.#status;
    await Promise.all([this.stdout.done, this.stderr.done]);
  }
}

/** A central on an ephemeral port with its own storage directory. */
export class Central extends Program {
  readonly storageDir: string;

  constructor(
    storageDir: string,
    env: Record<string, string> = {},
    args: string[] = [],
  ) {
    super("central", "server/main.ts", [
      "--config",
      join(ROOT, "server", "config.ini"),
      "--port",
      "0",
      "--listen-ip",
      "127.0.0.1",
      "--storage-dir",
      storageDir,
      ...args,
    ], env);
    this.storageDir = storageDir;
  }

  /** Waits until every worker listens; returns the port. */
  async ready(timeoutMs = 30_000): Promise<number> {
    const line = await this.stdout.waitFor(
      /action: central_ready \| result: success/,
      timeoutMs,
    );
    return Number(/port: (\d+)/.exec(line)![1]);
  }

  /** Process ids of every worker the central started. */
  workerPids(): number[] {
    return this.stdout.matching(/action: worker_started/).map((l) =>
      Number(/pid: (\d+)/.exec(l)![1])
    );
  }
}

/** Starts an agency against `port` with `CLI_*` settings. */
export function agency(
  id: number,
  port: number,
  env: Record<string, string> = {},
): Program {
  return new Program(`agency${id}`, "agency/main.ts", [
    "--config",
    join(ROOT, "agency", "config.yaml"),
  ], {
    CLI_ID: String(id),
    CLI_SERVER_ADDRESS: `127.0.0.1:${port}`,
    CLI_LOOP_PERIOD: "100ms",
    ...env,
  });
}

/** True if a process with this pid is running (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
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
