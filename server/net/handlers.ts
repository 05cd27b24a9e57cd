/**
 * One handler per request message, and the dispatch to them.
 *
 * @module
 */
import { Bet } from "../../lib/bet.ts";
import type { ActionLog } from "../../lib/log.ts";
import { type StorageRows, toStorageRows } from "../../lib/bet_row.ts";
import {
  type Message,
  type Request,
  type Response,
  splitWinners,
} from "../../protocol/messages.ts";
import type { Lottery } from "../lottery.ts";
import { DROPPED, type Pipeline, type Refusal, refuse } from "../outcomes.ts";
import { betRows } from "../store/bets_csv.ts";
import type { ResendRun } from "./resend_run.ts";

/** Who a request comes from. */
export interface Peer {
  /** The peer's address, for log lines. */
  readonly ip: string;
  /**
   * The agency this connection speaks for: the one whose key its opening
   * proof holds. A request about another agency is refused.
   */
  readonly agency: number;
  /**
   * Bets in the stream its hello announced: no bet past it is stored, and
   * a finish must say this many.
   */
  readonly total: number;
  /** The SHA-256 of that stream's rows, as its hello announced it. */
  readonly digest: Uint8Array;
  /**
   * The connection's requests: after its first refusal, nothing it read
   * later is stored or answered.
   */
  readonly pipeline: Pipeline;
  /** The resent bets of the connection, logged once per run of them. */
  readonly resends: ResendRun;
}

/** Replies to one request, and whether the connection must close after them. */
export interface Reply {
  /** Messages to send, in order. */
  readonly messages: readonly Response[];
  /** True after a refusal: the peer is not trusted to continue. */
  readonly close: boolean;
}

/** Turns one request into its replies. */
export type RequestHandler = (request: Request, peer: Peer) => Promise<Reply>;

/** An agency's hello, as the opening exchange carries it. */
export type Hello = Extract<Message, { kind: "hello" }>;

/**
 * Answers the hello of a connection whose proof holds for `peer.agency`:
 * a `welcome`, or a refusal that closes the connection.
 */
export type HelloHandler = (hello: Hello, peer: Peer) => Promise<Reply>;

/**
 * How long a winners or total query waits for a pending draw before it is
 * answered with how many agencies are still loading: an agency that asks
 * early gets the result the moment the draw is made, and a waiting agency
 * asks about once a second (the hold, then its `loop.period`) instead of
 * once per `loop.period`, whose questions took more CPU than the central
 * had to spare (see docs/performance.md). Well under the worker's shutdown
 * deadline (5 s), which a held query can delay.
 */
export const QUERY_HOLD_MS = 1_000;

/** What every handler works with. */
interface Context {
  readonly lottery: Lottery;
  readonly log: ActionLog;
  readonly queryHoldMs: number;
}

type Of<K extends Request["kind"]> = Extract<Request, { kind: K }>;

/**
 * The central's request handlers, one per message: validate, call the
 * {@linkcode Lottery}, log the course's lines, and answer. Refusals are
 * answered with an error code and close the connection. Queries for a
 * pending draw wait up to `queryHoldMs` for it (default
 * {@linkcode QUERY_HOLD_MS}).
 */
export function createHandler(
  lottery: Lottery,
  log: ActionLog,
  queryHoldMs: number = QUERY_HOLD_MS,
): RequestHandler {
  const context: Context = { lottery, log, queryHoldMs };
  return async (request, peer) => {
    // Read after a refusal: dropped (the refusal closes the connection, so
    // no reply goes out after it).
    if (peer.pipeline.refusal !== null) return dropped();
    if (request.agency !== peer.agency) {
      return forbidden(context, request, peer);
    }
    switch (request.kind) {
      case "bet":
      case "batch":
        return await storeBets(context, request, peer);
      case "finish":
        return await finish(context, request, peer);
      case "winnersQuery":
        return await winners(context, request, peer);
      case "totalQuery":
        return await total(context, request, peer);
    }
  };
}

/**
 * The handler of a proven hello: opens the agency's stream with the
 * {@linkcode Lottery} and welcomes it with how many of its bets are stored.
 */
export function createHelloHandler(
  lottery: Lottery,
  log: ActionLog,
): HelloHandler {
  return async (hello, peer) => {
    const outcome = await lottery.open(hello.agency, hello.total, hello.digest);
    if (outcome.status === "refused") {
      return refusedAfter(log, "apertura", outcome, hello.agency, peer);
    }
    log.debug("apertura", "success", {
      agencia: hello.agency,
      ip: peer.ip,
      almacenadas: outcome.stored,
    });
    return reply({ kind: "welcome", stored: outcome.stored });
  };
}

/** The reply to a refusal, recorded first in the connection's pipeline. */
function refused(peer: Peer, refusal: Refusal): Reply {
  peer.pipeline.refuse(refusal);
  return {
    messages: [{ kind: "error", code: refusal.code, message: refusal.reason }],
    close: true,
  };
}

/** A request read after a refusal on its connection: no reply. */
function dropped(): Reply {
  return { messages: [], close: true };
}

/** Logs `action`'s fail line for the agency and the peer, then refuses. */
function refusedAfter(
  log: ActionLog,
  action: string,
  refusal: Refusal,
  agency: number,
  peer: Peer,
): Reply {
  // A full disk (busy) is logged by the store once, not once per request.
  (refusal.code === "busy" ? log.debug : log.error)(action, "fail", {
    agencia: agency,
    ip: peer.ip,
    error: refusal.reason,
  });
  return refused(peer, refusal);
}

function reply(...messages: Response[]): Reply {
  return { messages, close: false };
}

/** A request about another agency than the one the connection speaks for. */
function forbidden({ log }: Context, request: Request, peer: Peer): Reply {
  const refusal = refuse(
    "forbidden",
    `Cannot serve agency ${request.agency}: this connection speaks for agency ${peer.agency}`,
  );
  log.error("request", "fail", { ip: peer.ip, error: refusal.reason });
  return refused(peer, refusal);
}

/**
 * A single bet (exercise 5: bet 0 of a stream of 1) or a batch: stored
 * exactly once, then acknowledged. Nothing past the stream the hello
 * announced is stored.
 */
async function storeBets(
  { lottery, log }: Context,
  request: Of<"bet" | "batch">,
  peer: Peer,
): Promise<Reply> {
  const first = request.kind === "bet" ? 0 : request.first;
  const count = request.kind === "bet" ? 1 : request.count;
  // Rows are made, and handed to the writer (which copies them), before
  // anything is awaited: a batch's bytes are only valid until the session
  // reads the next frame.
  const rows = first + count > peer.total
    ? refuse(
      "conflict",
      `Cannot store bets ${first} to ${
        first + count - 1
      }: the hello announced a stream of ${peer.total} bets`,
    )
    : toRows(request);
  // An invalid batch is refused here and now, before the next frame is
  // read: the batches after it must find the refusal.
  if ("status" in rows) peer.pipeline.refuse(rows);
  const outcome = "status" in rows
    ? rows
    : await lottery.store(request.agency, first, rows, peer.pipeline, {
      total: peer.total,
      digest: peer.digest,
    });
  const ack = (duplicate: boolean): Response => ({
    kind: "ack",
    first,
    count,
    duplicate,
  });
  if (outcome === DROPPED) return dropped();
  if (outcome.status === "refused") {
    // A full disk (busy) is logged by the store once, not once per batch.
    if (outcome.code !== "busy") {
      logBatch(log, request, "fail", { ip: peer.ip, error: outcome.reason });
    }
    return refused(peer, outcome);
  }
  if (outcome.skipped > 0) peer.resends.add(outcome.skipped);
  if (outcome.status === "duplicate") return reply(ack(true));
  peer.resends.end();
  logBatch(log, request, "success", {});
  return reply(ack(false));
}

/** The agency has sent everything: counted once; the last one makes the draw. */
async function finish(
  { lottery, log }: Context,
  request: Of<"finish">,
  peer: Peer,
): Promise<Reply> {
  const outcome = request.total === peer.total
    ? await lottery.finish(request.agency, request.total, peer.digest)
    : refuse(
      "conflict",
      `Cannot finish agency ${request.agency}: it announced ${request.total} bets, its hello ${peer.total}`,
    );
  if (outcome.status === "refused") {
    return refusedAfter(log, "notificacion_fin", outcome, request.agency, peer);
  }
  return reply({
    kind: "ack",
    first: request.total,
    count: 0,
    duplicate: !outcome.first,
  });
}

/** The agency's winning documents, or how many agencies are still loading. */
async function winners(
  { lottery, log, queryHoldMs }: Context,
  request: Of<"winnersQuery">,
  peer: Peer,
): Promise<Reply> {
  const outcome = await lottery.winners(request.agency, queryHoldMs);
  if (outcome.status === "refused") {
    log.error("consulta_ganadores", "fail", {
      ip: peer.ip,
      error: outcome.reason,
    });
    return refused(peer, outcome);
  }
  if (outcome.status === "pending") {
    return reply({
      kind: "pending",
      pendingAgencies: outcome.pendingAgencies,
    });
  }
  log.debug("respuesta_ganadores", "success", {
    agencia: request.agency,
    cant_ganadores: outcome.documents.length,
  });
  return reply(...splitWinners(outcome.documents));
}

/** The number of winners nationwide, or how many agencies are still loading. */
async function total(
  { lottery, log, queryHoldMs }: Context,
  request: Of<"totalQuery">,
  peer: Peer,
): Promise<Reply> {
  if (!lottery.isKnownAgency(request.agency)) {
    const reason =
      `Cannot serve agency ${request.agency}: it is not a known agency`;
    log.error("consulta_total", "fail", { ip: peer.ip, error: reason });
    return refused(peer, refuse("unknownAgency", reason));
  }
  const outcome = await lottery.total(queryHoldMs);
  return outcome.status === "pending"
    ? reply({ kind: "pending", pendingAgencies: outcome.pendingAgencies })
    : reply({ kind: "total", totalWinners: outcome.total });
}

/** Validates a bet or a batch into storage rows, or refuses all of it. */
function toRows(request: Of<"bet" | "batch">): StorageRows | Refusal {
  try {
    return request.kind === "bet"
      ? betRows([Bet.fromWire(request.agency, request.bet)])
      : toStorageRows(request.agency, request.rows, request.count);
  } catch (error) {
    const message = (error as Error).message;
    return refuse(
      "invalidBet",
      request.kind === "bet" ? `bet 1 of 1: ${message}` : message,
    );
  }
}

/**
 * The course's lines: `apuesta_almacenada` with the DNI and number for a
 * single bet (exercise 5), `apuesta_recibida` with the count for a batch.
 */
function logBatch(
  log: ActionLog,
  request: Of<"bet" | "batch">,
  result: "success" | "fail",
  extra: Record<string, string>,
): void {
  const at = result === "success" ? log.info : log.error;
  if (request.kind === "bet") {
    at("apuesta_almacenada", result, {
      dni: request.bet.document,
      numero: request.bet.number,
      ...extra,
    });
  } else {
    at("apuesta_recibida", result, { cantidad: request.count, ...extra });
  }
}
