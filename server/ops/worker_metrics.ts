/**
 * One worker's figures for `GET /metrics`: prom-client counters, a gauge
 * and the group commit's histogram in the worker's own registry, updated
 * once per batch (never per bet). The supervisor gathers every worker's
 * registry as JSON and sums them (see `metrics_server.ts`).
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ErrorCodeName } from "../../protocol/messages.ts";

/**
 * Upper bounds, in seconds, of the commit latency's buckets: from a
 * millisecond (one small group on an idle disk) to seconds (a slow disk,
 * or a worker starved of CPU).
 */
export const LATENCY_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
];

/**
 * A registry's figures as prom-client's JSON (`getMetricsAsJSON`), the form
 * its aggregation reads (help, type and aggregator too); typed here are the
 * fields this project reads or relabels.
 */
export type MetricsJson = {
  /** The metric's name. */
  name: string;
  /** One value per label set. */
  values: {
    /** The figure. */
    value: number;
    /** Its labels. */
    labels: Partial<Record<string, string | number>>;
  }[];
}[];

/**
 * The figures also reported per worker (the supervisor labels them with
 * the worker's slot): how the kernel spreads the agencies over the workers.
 */
export const PER_WORKER: ReadonlySet<string> = new Set([
  "central_worker_open_connections",
  "central_worker_bets_stored_total",
]);

/** A worker's counters, as its handlers, session hooks and lottery update them. */
export class WorkerMetrics {
  readonly #registry = new Registry();
  readonly #stored: Counter;
  readonly #duplicates: Counter;
  readonly #batches: Counter;
  readonly #refusals: Counter<"code">;
  readonly #authFailures: Counter;
  readonly #finished: Counter;
  readonly #open: Gauge;
  readonly #perWorkerOpen: Gauge;
  readonly #perWorkerStored: Counter;
  readonly #latency: Histogram;

  /** Registers every figure, at zero, in a registry of its own. */
  constructor() {
    const registers = [this.#registry];
    const counter = (name: string, help: string) =>
      new Counter({ name, help, registers });
    const gauge = (name: string, help: string) =>
      new Gauge({ name, help, registers });
    this.#stored = counter(
      "central_bets_stored_total",
      "Bets stored (new, not resent) since the central started",
    );
    this.#duplicates = counter(
      "central_bets_duplicate_total",
      "Resent bets skipped because they were stored before",
    );
    this.#batches = counter(
      "central_batches_total",
      "Batches (and single bets) acknowledged, resends included",
    );
    this.#refusals = new Counter({
      name: "central_refusals_total",
      help: "Error replies sent (refusals), by the protocol's error code",
      labelNames: ["code"],
      registers,
    });
    this.#authFailures = counter(
      "central_auth_failures_total",
      "Opening proofs that did not hold",
    );
    this.#finished = counter(
      "central_finish_notifications_total",
      "Agencies counted as finished by this run's workers",
    );
    this.#open = gauge(
      "central_open_connections",
      "Connections open across the workers",
    );
    this.#perWorkerOpen = gauge(
      "central_worker_open_connections",
      "Connections open in each worker (label worker: its slot)",
    );
    this.#perWorkerStored = counter(
      "central_worker_bets_stored_total",
      "Bets stored by each worker (label worker: its slot)",
    );
    this.#latency = new Histogram({
      name: "central_batch_commit_seconds",
      help: "From a batch read to its acknowledgement being ready " +
        "(the group commit's latency)",
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  /** A batch's bets committed: `stored` new ones, `skipped` resent ones. */
  bets(stored: number, skipped: number): void {
    if (stored > 0) {
      this.#stored.inc(stored);
      this.#perWorkerStored.inc(stored);
    }
    if (skipped > 0) this.#duplicates.inc(skipped);
  }

  /** A batch acknowledged `seconds` after it was read. */
  acknowledged(seconds: number): void {
    this.#batches.inc();
    this.#latency.observe(seconds);
  }

  /** An error reply sent with `code` (a refusal). */
  refused(code: ErrorCodeName): void {
    this.#refusals.inc({ code });
  }

  /** A proof that did not hold. */
  authFailed(): void {
    this.#authFailures.inc();
  }

  /** An agency counted as finished, for the first time. */
  finished(): void {
    this.#finished.inc();
  }

  /** The worker now has `open` connections. */
  connections(open: number): void {
    this.#open.set(open);
    this.#perWorkerOpen.set(open);
  }

  /** Every figure, as prom-client's JSON (what the supervisor sums). */
  async snapshot(): Promise<MetricsJson> {
    return await this.#registry.getMetricsAsJSON();
  }
}
