/**
 * Runs the project's programs as child processes, with their output
 * collected line by line and waits on lines or exits that have deadlines.
 * Shared by the system tests and the host demo. Every central gets this
 * process's fresh {@linkcode HARNESS_SECRET} and every agency the key it
 * gives, unless the caller sets them.
 */
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AGENCY_V8_FLAGS } from "../agency/v8_flags.ts";

/** The project root. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

const DENO = Deno.execPath();
const CONFIG = join(ROOT, "deno.json");

const READ_BUFFER = 64 * 1024;

/**
 * The `AUTH_SECRET` of the centrals this process starts: fresh random bytes
 * for each run, so no key of a run works in another.
 */
export const HARNESS_SECRET: string = Array.from(
  crypto.getRandomValues(new Uint8Array(32)),
  (b) => b.toString(16).padStart(2, "0"),
).join("");

/**
 * Agency `id`'s key for `secret` (default {@linkcode HARNESS_SECRET}), as
 * `central agency-key` prints it: synchronous, with `node:crypto`, and
 * written apart from `lib/agency_auth.ts`, so the tests check that one.
 */
export function harnessKey(id: number, secret = HARNESS_SECRET): string {
  return createHmac("sha256", secret).update(`agency:${id}`).digest("hex");
}

/** Lines of a process's output, with waits on them. */
export class Lines {
  /** Every line so far, without its line end. */
  readonly all: string[] = [];
  #waiters: {
    test: (line: string) => boolean;
    resolve: (line: string) => void;
  }[] = [];
  /** Resolves when the stream has ended and its last line is in. */
  readonly done: Promise<void>;

  /**
   * Starts reading `stream` line by line.
   *
   * @param stream the output to read
   * @param echo a prefix to print each line with as it arrives, or `null`
   */
  constructor(stream: ReadableStream<Uint8Array>, echo: string | null) {
    this.done = (async () => {
      // One reused buffer (a BYOB read hands it back): the default reader
      // allocates 64 kB per read, and the central writes a line per batch,
      // so the benchmark spent its CPU clearing fresh pages.
      const reader = stream.getReader({ mode: "byob" });
      const decoder = new TextDecoder();
      let buffer = new ArrayBuffer(READ_BUFFER);
      let pending = "";
      for (;;) {
        const { value, done } = await reader.read(new Uint8Array(buffer));
        if (done || value === undefined) break;
        pending += decoder.decode(value, { stream: true });
        buffer = value.buffer as ArrayBuffer;
        let start = 0;
        for (let lf; (lf = pending.indexOf("\n", start)) !== -1;) {
          this.#push(pending.slice(start, lf), echo);
          start = lf + 1;
        }
        pending = pending.slice(start);
      }
      pending += decoder.decode();
      if (pending !== "") this.#push(pending, echo);
    })();
  }

  #push(line: string, echo: string | null) {
    this.all.push(line);
    if (echo !== null) console.log(`${echo.padEnd(8)} | ${line}`);
    if (this.#waiters.length === 0) return;
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
  /** The process. */
  readonly child: Deno.ChildProcess;
  /** Its standard output, line by line. */
  readonly stdout: Lines;
  /** Its standard error, line by line. */
  readonly stderr: Lines;
  #status: Promise<Deno.CommandStatus>;

  /**
   * Starts `script` with Deno and reads its output.
   *
   * @param name the prefix for echoed lines
   * @param script `server/main.ts` or `agency/main.ts`, from the project root
   * @param args its arguments
   * @param env extra environment variables
   * @param echo print the output as it comes, prefixed with `name`
   * @param umask the umask to run it under (octal), through `sh`: setting
   *   it in this process would need `--allow-sys`
   */
  constructor(
    name: string,
    script: string,
    args: string[],
    env: Record<string, string>,
    echo = false,
    umask?: string,
  ) {
    // The central's permissions, or an agency's (and its V8 flags; a pool
    // of agencies runs their code too).
    const flags = script.startsWith("server/")
      ? [
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-run",
      ]
      : [
        "--allow-net",
        "--allow-read",
        "--allow-env",
        `--v8-flags=${AGENCY_V8_FLAGS}`,
      ];
    const command = [
      "run",
      "--quiet",
      `--config=${CONFIG}`,
      ...flags,
      join(ROOT, script),
      ...args,
    ];
    const wrapped = umask === undefined
      ? null
      : ["-c", `umask ${umask} && exec "$@"`, "sh", DENO, ...command];
    this.child = new Deno.Command(wrapped === null ? DENO : "sh", {
      args: wrapped ?? command,
      cwd: ROOT,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.stdout = new Lines(this.child.stdout, echo ? name : null);
    this.stderr = new Lines(this.child.stderr, echo ? name : null);
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

  /** Kills the process (SIGKILL) and waits for it and its output to end. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.kill("SIGKILL");
    await this.#status;
    await Promise.all([this.stdout.done, this.stderr.done]);
  }
}

/** How to start a central or an agency. */
export interface StartOptions {
  /** Extra environment variables. */
  readonly env?: Record<string, string>;
  /** Extra arguments (after the defaults, so they win). */
  readonly args?: string[];
  /** Print the output as it comes. */
  readonly echo?: boolean;
  /** The prefix for echoed lines. */
  readonly name?: string;
  /** The umask to run it under, in octal (default: this process's). */
  readonly umask?: string;
}

/** A central on 127.0.0.1, an ephemeral port, and its own storage directory. */
export class CentralProcess extends Program {
  /** Where this central keeps its storage. */
  readonly storageDir: string;

  /**
   * Starts a central on `storageDir`.
   *
   * @param storageDir the storage directory
   * @param options extra environment, arguments and echo
   */
  constructor(storageDir: string, options: StartOptions = {}) {
    super(
      options.name ?? "central",
      "server/main.ts",
      [
        "--config",
        join(ROOT, "server", "config.ini"),
        "--port",
        "0",
        "--listen-ip",
        "127.0.0.1",
        "--storage-dir",
        storageDir,
        ...(options.args ?? []),
      ],
      { AUTH_SECRET: HARNESS_SECRET, ...options.env },
      options.echo ?? false,
      options.umask,
    );
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

/**
 * Starts agency `id` against 127.0.0.1:`port`, with `CLI_*` settings in
 * `options.env` and its key for {@linkcode HARNESS_SECRET}.
 */
export function agencyProcess(
  id: number,
  port: number,
  options: StartOptions = {},
): Program {
  return new Program(
    options.name ?? `agency${id}`,
    "agency/main.ts",
    ["--config", join(ROOT, "client", "config.yaml"), ...(options.args ?? [])],
    {
      CLI_ID: String(id),
      CLI_SERVER_ADDRESS: `127.0.0.1:${port}`,
      CLI_LOOP_PERIOD: "100ms",
      CLI_AUTH_KEY: harnessKey(id),
      ...options.env,
    },
    options.echo ?? false,
  );
}
