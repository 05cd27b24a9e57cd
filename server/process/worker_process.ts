/**
 * A worker as a child process: how it is started, its flags, its ready line.
 *
 * @module
 */
import type { CentralConfig } from "../config.ts";
import { METRICS_REQUEST, MetricsRequests } from "../ops/metrics_channel.ts";
import type { WorkerHandle } from "./supervisor.ts";

/** The line a worker writes on its control channel (stderr) once listening. */
export const READY_LINE = "WORKER_READY";

/**
 * V8 flags of every worker: a young generation of at most 4 MB per
 * semi-space instead of V8's default (up to 16 MB or more), and an old
 * generation let grow 20% past what the last full collection kept, not
 * V8's default factor (up to 4 times). A worker makes garbage at a high
 * rate (frames, rows, a thousand sessions' buffers); with the defaults the
 * central's memory grew under load, with these it stays near what it uses,
 * at no cost to ingest that the benchmark shows (see docs/performance.md).
 */
export const WORKER_V8_FLAGS =
  "--max-semi-space-size=4,--heap-growing-percent=20";

/**
 * The `DENO_V8_FLAGS` a worker gets: {@linkcode WORKER_V8_FLAGS}, then the
 * operator's own `DENO_V8_FLAGS` (`inherited`), which V8 applies last, so
 * they win.
 */
export function workerV8Flags(inherited: string | undefined): string {
  return inherited ? `${WORKER_V8_FLAGS},${inherited}` : WORKER_V8_FLAGS;
}

/**
 * How to start this same program as a worker: the compiled executable with
 * the `worker` sub-command, or, under `deno run`, the Deno binary running
 * `server/main.ts` with the permissions a worker needs and this project's
 * deno.json (import map and unstable features).
 */
export function workerCommand(
  mainModule: string,
): { command: string; args: string[] } {
  if (Deno.build.standalone) {
    return { command: Deno.execPath(), args: ["worker"] };
  }
  return {
    command: Deno.execPath(),
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      `--config=${new URL("../../deno.json", import.meta.url).pathname}`,
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      mainModule,
      "worker",
    ],
  };
}

/**
 * Starts one worker process, with `v8Flags` as its `DENO_V8_FLAGS` (see
 * {@linkcode workerV8Flags}). The worker gets its configuration as one JSON
 * line on stdin and keeps stdin open as a lifeline: when the supervisor
 * dies, even by SIGKILL, the worker reads end-of-file and shuts down, so no
 * worker is orphaned. It logs to the shared stdout; its stderr is the
 * control channel, where it announces {@linkcode READY_LINE} and anything
 * else is passed through to the supervisor's stderr.
 */
export function spawnWorkerProcess(
  command: { command: string; args: string[] },
  config: CentralConfig,
  v8Flags: string = WORKER_V8_FLAGS,
): WorkerHandle {
  const child = new Deno.Command(command.command, {
    args: command.args,
    env: { DENO_V8_FLAGS: v8Flags },
    stdin: "piped",
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  const stdin = child.stdin.getWriter();
  const sendConfig = stdin.write(
    new TextEncoder().encode(JSON.stringify(config) + "\n"),
  );
  let readyResolve!: () => void;
  let readyReject!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  const requests = new MetricsRequests();
  const control = watchControl(child.stderr, readyResolve, requests);
  const exited = (async () => {
    const status = await child.status;
    await control;
    requests.end();
    readyReject(
      new Error(
        `Cannot start worker ${child.pid}: it exited with code ${status.code}`,
      ),
    );
    await sendConfig.catch((error: unknown) => {
      if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
    });
    await stdin.close().catch((error: unknown) => {
      if (
        !(error instanceof Deno.errors.BrokenPipe) &&
        !(error instanceof TypeError)
      ) throw error;
    });
    return status.code;
  })();
  return {
    pid: child.pid,
    ready,
    exited,
    metrics: () =>
      requests.request(() =>
        stdin.write(new TextEncoder().encode(METRICS_REQUEST + "\n"))
      ),
    kill(signal: Deno.Signal) {
      try {
        child.kill(signal);
      } catch (error) {
        // The process already ended: nothing to signal.
        if (
          !(error instanceof TypeError) &&
          !(error instanceof Deno.errors.NotFound)
        ) throw error;
      }
    },
  };
}

async function watchControl(
  stderr: ReadableStream<Uint8Array>,
  onReady: () => void,
  requests: MetricsRequests,
): Promise<void> {
  let pending = "";
  const out = new TextEncoder();
  for await (const text of stderr.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let lf: number;
    while ((lf = pending.indexOf("\n")) !== -1) {
      const line = pending.slice(0, lf);
      pending = pending.slice(lf + 1);
      if (line === READY_LINE) onReady();
      else if (!requests.take(line)) {
        Deno.stderr.writeSync(out.encode(line + "\n"));
      }
    }
  }
  if (pending !== "") Deno.stderr.writeSync(out.encode(pending));
}
