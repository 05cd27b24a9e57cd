/**
 * The central's supervisor: keeps its worker processes running.
 *
 * @module
 */
import { Backoff } from "../../lib/backoff.ts";
import type { ActionLog } from "../../lib/log.ts";

/** A running worker process, as the supervisor sees it. */
export interface WorkerHandle {
  /** The process id. */
  readonly pid: number;
  /** Settles when the worker said it is listening; rejects if it exits first. */
  readonly ready: Promise<void>;
  /** Settles with the exit code when the process ends. */
  readonly exited: Promise<number>;
  /** Sends a signal; a process that already ended is ignored. */
  kill(signal: Deno.Signal): void;
  /** Its figures as JSON (see `server/ops/metrics_channel.ts`); `null` once it ended. */
  metrics?(): Promise<string | null>;
}

/** Starts worker number `index` (1-based); `supervisor_test.ts` passes fakes. */
export type SpawnWorker = (index: number) => WorkerHandle;

/** Timing of the supervisor; defaults suit production. */
export interface SupervisorOptions {
  /** How long start-up waits for every worker to be listening. */
  readonly readyTimeoutMs: number;
  /** How long stop waits for workers after SIGTERM before SIGKILL. */
  readonly stopTimeoutMs: number;
  /** First pause before restarting a crashed worker; doubles per quick crash. */
  readonly restartDelayMs: number;
}

const DEFAULTS: SupervisorOptions = {
  readyTimeoutMs: 30_000,
  stopTimeoutMs: 10_000,
  restartDelayMs: 100,
};

/**
 * Keeps `count` worker processes running: starts them, restarts one that
 * dies (logging it), and on stop sends SIGTERM to each, waits for them
 * within a deadline (then SIGKILL), and logs each one's end. Disposing it
 * stops it.
 */
export class Supervisor implements AsyncDisposable {
  readonly #count: number;
  readonly #spawn: SpawnWorker;
  readonly #log: ActionLog;
  readonly #options: SupervisorOptions;
  readonly #current = new Map<number, WorkerHandle>();
  readonly #slots: Promise<void>[] = [];
  #stopping = false;
  /** Aborted on stop: wakes every slot waiting to restart its worker. */
  readonly #stopped = new AbortController();

  /**
   * A supervisor of `count` workers, none started yet.
   *
   * @param count how many workers to keep running
   * @param spawn starts one worker
   * @param log where worker lifecycle lines go
   * @param options timing overrides
   */
  constructor(
    count: number,
    spawn: SpawnWorker,
    log: ActionLog,
    options: Partial<SupervisorOptions> = {},
  ) {
    this.#count = count;
    this.#spawn = spawn;
    this.#log = log;
    this.#options = { ...DEFAULTS, ...options };
  }

  /** The workers running now, by slot (1-based). */
  get workers(): ReadonlyMap<number, WorkerHandle> {
    return this.#current;
  }

  /** Process ids of the workers running now. */
  get pids(): number[] {
    return [...this.#current.values()].map((w) => w.pid);
  }

  /**
   * Starts every worker and resolves when all are listening. Throws if one
   * exits or does not get ready in time.
   */
  async start(): Promise<void> {
    const ready: Promise<void>[] = [];
    for (let index = 1; index <= this.#count; index++) {
      const first = this.#startOne(index);
      ready.push(first.ready);
      this.#slots.push(this.#keep(index, first));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `Cannot start workers: not all listening after ${this.#options.readyTimeoutMs} ms`,
            ),
          ),
        this.#options.readyTimeoutMs,
      );
    });
    try {
      await Promise.race([Promise.all(ready), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #startOne(index: number): WorkerHandle {
    const worker = this.#spawn(index);
    this.#current.set(index, worker);
    // A worker that dies before it is ready is also seen through `exited`,
    // which restarts it; here it only needs noting.
    worker.ready.catch((error: unknown) =>
      this.#log.debug("worker_ready", "fail", {
        worker: index,
        error: String(error),
      })
    );
    this.#log.info("worker_started", "success", {
      worker: index,
      pid: worker.pid,
    });
    return worker;
  }

  /** Watches slot `index`: when its worker dies unasked, starts another. */
  async #keep(index: number, first: WorkerHandle): Promise<void> {
    let worker = first;
    const backoff = new Backoff(this.#options.restartDelayMs, 5_000);
    for (;;) {
      const started = Date.now();
      const code = await worker.exited;
      if (this.#stopping) {
        this.#log.info("worker_closed", "success", {
          worker: index,
          pid: worker.pid,
          code,
        });
        this.#current.delete(index);
        return;
      }
      this.#log.error("worker_exited", "fail", {
        worker: index,
        pid: worker.pid,
        code,
      });
      // A worker that ran a while crashed anew: start again from the first pause.
      if (Date.now() - started > 5_000) backoff.reset();
      await backoff.wait(this.#stopped.signal);
      if (this.#stopping) {
        this.#current.delete(index);
        return;
      }
      worker = this.#startOne(index);
    }
  }

  /** Stops every worker (SIGTERM, then SIGKILL after the deadline). Idempotent. */
  async stop(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#stopped.abort();
      for (const worker of this.#current.values()) worker.kill("SIGTERM");
      const timer = setTimeout(() => {
        for (const worker of this.#current.values()) {
          this.#log.error("worker_stop", "fail", {
            pid: worker.pid,
            error:
              `Cannot stop worker gracefully: still running after ${this.#options.stopTimeoutMs} ms`,
          });
          worker.kill("SIGKILL");
        }
      }, this.#options.stopTimeoutMs);
      try {
        await Promise.all(this.#slots);
      } finally {
        clearTimeout(timer);
      }
    }
    await Promise.all(this.#slots);
  }

  /** Same as {@linkcode Supervisor.stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
