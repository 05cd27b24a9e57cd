/**
 * The worker's hooks for `GET /metrics`, as wrappers around what `main`
 * builds anyway: the request and hello handlers, the lottery and the
 * authenticator. Each updates a {@linkcode WorkerMetrics} once per batch,
 * request or proof, and none changes what it wraps does.
 *
 * @module
 */
import { Authenticator } from "../net/authenticator.ts";
import type { HelloHandler, Reply, RequestHandler } from "../net/handlers.ts";
import { type FinishOutcome, Lottery, type LotteryDeps } from "../lottery.ts";
import type { StoreOutcome } from "../outcomes.ts";
import type { ErrorCodeName } from "../../protocol/messages.ts";
import type { WorkerMetrics } from "./worker_metrics.ts";

/** Counts the refusals in `reply`, by error code. */
function countRefusals(reply: Reply, metrics: WorkerMetrics): void {
  for (const message of reply.messages) {
    if (message.kind === "error") metrics.refused(message.code);
  }
}

/**
 * `handler`, timing each batch (or single bet) from the moment its frame
 * was read, which is when the session calls the handler, to its
 * acknowledgement, and counting every refusal it answers.
 */
export function meterHandler(
  handler: RequestHandler,
  metrics: WorkerMetrics,
): RequestHandler {
  return async (request, peer) => {
    const start = performance.now();
    const reply = await handler(request, peer);
    if (request.kind === "batch" || request.kind === "bet") {
      if (reply.messages[0]?.kind === "ack") {
        metrics.acknowledged((performance.now() - start) / 1000);
      }
    }
    countRefusals(reply, metrics);
    return reply;
  };
}

/** `handler`, counting the hellos it refuses. */
export function meterHello(
  handler: HelloHandler,
  metrics: WorkerMetrics,
): HelloHandler {
  return async (hello, peer) => {
    const reply = await handler(hello, peer);
    countRefusals(reply, metrics);
    return reply;
  };
}

/** A {@linkcode Lottery} that counts the bets it stores and skips, and finishes. */
export class MeteredLottery extends Lottery {
  readonly #metrics: WorkerMetrics;

  /**
   * A lottery on `deps` that counts into `metrics`.
   *
   * @param deps as for {@linkcode Lottery}
   * @param metrics where the counts go
   */
  constructor(deps: LotteryDeps, metrics: WorkerMetrics) {
    super(deps);
    this.#metrics = metrics;
  }

  /** {@linkcode Lottery.store}, counting stored and skipped bets. */
  override async store(
    ...args: Parameters<Lottery["store"]>
  ): Promise<StoreOutcome> {
    const outcome = await super.store(...args);
    if (outcome.status === "stored") {
      this.#metrics.bets(outcome.stored, outcome.skipped);
    } else if (outcome.status === "duplicate") {
      this.#metrics.bets(0, outcome.skipped);
    }
    return outcome;
  }

  /** {@linkcode Lottery.finish}, counting an agency's first finish. */
  override async finish(
    ...args: Parameters<Lottery["finish"]>
  ): Promise<FinishOutcome> {
    const outcome = await super.finish(...args);
    if (outcome.status === "finished" && outcome.first) {
      this.#metrics.finished();
    }
    return outcome;
  }
}

/** An {@linkcode Authenticator} that counts the proofs that do not hold. */
export class MeteredAuthenticator extends Authenticator {
  readonly #metrics: WorkerMetrics;

  /**
   * An authenticator for `secret` that counts into `metrics`.
   *
   * @param secret the central's `AUTH_SECRET`
   * @param metrics where the counts go
   */
  constructor(secret: string, metrics: WorkerMetrics) {
    super(secret);
    this.#metrics = metrics;
  }

  /** {@linkcode Authenticator.verify}, counting a failed proof. */
  override async verify(
    ...args: Parameters<Authenticator["verify"]>
  ): Promise<boolean> {
    const holds = await super.verify(...args);
    if (!holds) this.#metrics.authFailed();
    return holds;
  }
}

/** What a worker serves with, metered or not (see {@linkcode meterServing}). */
export interface Serving {
  /** The request handler. */
  readonly handler: RequestHandler;
  /** The hello handler. */
  readonly hello: HelloHandler;
  /** The opening's authenticator. */
  readonly authenticator: Authenticator;
  /** The accept loop's count of open connections, when metered. */
  readonly onConnections?: (open: number) => void;
  /** The error replies sent outside the handlers, when metered. */
  readonly onRefusal?: (code: ErrorCodeName) => void;
}

/**
 * The worker's handlers and authenticator (for `secret`), each counting
 * into `metrics`, with the accept loop's and sessions' hooks; as they are,
 * with a plain authenticator, when `metrics` is `null` (metrics off).
 */
export function meterServing(
  metrics: WorkerMetrics | null,
  secret: string,
  handler: RequestHandler,
  hello: HelloHandler,
): Serving {
  if (metrics === null) {
    return { handler, hello, authenticator: new Authenticator(secret) };
  }
  return {
    handler: meterHandler(handler, metrics),
    hello: meterHello(hello, metrics),
    authenticator: new MeteredAuthenticator(secret, metrics),
    onConnections: (open) => metrics.connections(open),
    onRefusal: (code) => metrics.refused(code),
  };
}
