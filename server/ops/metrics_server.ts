/**
 * The supervisor's `GET /metrics`, in the Prometheus text format: every
 * worker's registry (asked for on each scrape, see `metrics_channel.ts`)
 * summed with prom-client's aggregation, one figure also per worker, and
 * the storage directory's durable facts (agencies finished, the draw) read
 * through a {@linkcode StorageView}.
 *
 * @module
 */
import { AggregatorRegistry, Gauge, Registry } from "prom-client";
import type { ActionLog } from "../../lib/log.ts";
import type { WorkerHandle } from "../process/supervisor.ts";
import type { StorageReader } from "./storage_view.ts";
import { type MetricsJson, PER_WORKER } from "./worker_metrics.ts";

/** How long a scrape waits for a worker's figures before leaving it out. */
export const WORKER_ANSWER_MS = 2_000;

/** What the metrics endpoint reads. */
export interface MetricsSources {
  /** The workers running now, by slot. */
  readonly workers: () => ReadonlyMap<number, WorkerHandle>;
  /** The storage (directory or database), read-only; closed when it stops. */
  readonly storage: StorageReader;
  /** How many agencies the draw waits for. */
  readonly agencies: number;
}

/**
 * Serves `GET /metrics` on `hostname:port` until disposed; any other
 * request gets 404 (405 for another method on `/metrics`).
 */
export class MetricsServer implements AsyncDisposable {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #sources: MetricsSources;
  readonly #log: ActionLog;
  readonly #storage = new Registry();
  readonly #gauges;
  #closed = false;

  private constructor(
    hostname: string,
    port: number,
    sources: MetricsSources,
    log: ActionLog,
  ) {
    this.#sources = sources;
    this.#log = log;
    const registers = [this.#storage];
    this.#gauges = {
      workers: new Gauge({
        name: "central_workers_reporting",
        help: "Workers whose figures this scrape includes",
        registers,
      }),
      stored: new Gauge({
        name: "central_ledger_bets",
        help: "Bets the ledger holds as stored (every run of this storage)",
        registers,
      }),
      finished: new Gauge({
        name: "central_agencies_finished",
        help: "Agencies counted as finished",
        registers,
      }),
      agencies: new Gauge({
        name: "central_agencies",
        help: "Agencies the draw waits for (AGENCIES)",
        registers,
      }),
      made: new Gauge({
        name: "central_draw_made",
        help: "1 once the draw is made, else 0",
        registers,
      }),
      at: new Gauge({
        name: "central_draw_timestamp_seconds",
        help: "When the draw was made (Unix time; absent before it)",
        registers,
      }),
    };
    this.#server = Deno.serve(
      { hostname, port, onListen: () => {} },
      (request) => this.#answer(request),
    );
  }

  /** Starts serving; throws if the port cannot be bound. */
  static start(
    hostname: string,
    port: number,
    sources: MetricsSources,
    log: ActionLog,
  ): MetricsServer {
    let server: MetricsServer;
    try {
      server = new MetricsServer(hostname, port, sources, log);
    } catch (error) {
      throw new Error(
        `Cannot serve metrics on ${hostname}:${port}: ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
    log.info("metrics_listen", "success", { port: server.port });
    return server;
  }

  /** The port it serves on. */
  get port(): number {
    return this.#server.addr.port;
  }

  async #answer(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== "/metrics") {
      return new Response("Not found: the central serves /metrics\n", {
        status: 404,
      });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed\n", {
        status: 405,
        headers: { allow: "GET, HEAD" },
      });
    }
    try {
      const registry = AggregatorRegistry.aggregate(await this.#gather());
      return new Response(await registry.metrics(), {
        headers: { "content-type": registry.contentType },
      });
    } catch (error) {
      // A damaged ledger, say: the scrape fails, the central goes on.
      const message = `Cannot gather metrics: ${(error as Error).message}`;
      this.#log.error("metrics", "fail", { error: message });
      return new Response(message + "\n", { status: 500 });
    }
  }

  /** Every worker's figures, labelled where per worker, and the storage's. */
  async #gather(): Promise<MetricsJson[]> {
    const answers = await Promise.all(
      [...this.#sources.workers()].map(async ([slot, worker]) => ({
        slot,
        json: await within(worker.metrics?.() ?? null, WORKER_ANSWER_MS),
      })),
    );
    const sets: MetricsJson[] = [];
    for (const { slot, json } of answers) {
      if (json === null) continue;
      const metrics = JSON.parse(json) as MetricsJson;
      for (const metric of metrics) {
        if (!PER_WORKER.has(metric.name)) continue;
        for (const value of metric.values) {
          value.labels = { ...value.labels, worker: slot };
        }
      }
      sets.push(metrics);
    }
    const snapshot = await this.#sources.storage.snapshot();
    const g = this.#gauges;
    g.workers.set(sets.length);
    g.stored.set(snapshot.stored);
    g.finished.set(snapshot.finished);
    g.agencies.set(this.#sources.agencies);
    g.made.set(snapshot.draw === null ? 0 : 1);
    g.at.reset();
    const at = snapshot.draw?.at;
    if (at) g.at.set(at.getTime() / 1000);
    sets.push(await this.#storage.getMetricsAsJSON());
    return sets;
  }

  /** Stops serving. Idempotent. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#server.shutdown();
    } finally {
      await this.#sources.storage[Symbol.asyncDispose]();
    }
  }
}

/** `promise`'s value, or `null` if it takes longer than `ms`. */
async function within<T>(
  promise: Promise<T | null> | null,
  ms: number,
): Promise<T | null> {
  if (promise === null) return null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
