/**
 * A worker's accept loop: one session per connection, and a bounded
 * shutdown.
 *
 * @module
 */
import { Backoff } from "../../lib/backoff.ts";
import type { ActionLog } from "../../lib/log.ts";
import type { ErrorCodeName } from "../../protocol/messages.ts";
import { Admission, type AdmissionLimits } from "./admission.ts";
import { BusyDoor, type HoldLimits, RETRY_AFTER_MS } from "./busy_door.ts";
import { ECHO_LINES } from "./echo_probe.ts";
import { LineBudget } from "./failure_log.ts";
import type { RequestHandler } from "./handlers.ts";
import { type OpeningOptions, Session } from "./session.ts";

export { RETRY_AFTER_MS } from "./busy_door.ts";

/** How long a refused or evicted unproven peer is held before its answer. */
const HOLD_MS = 2_000;

/**
 * The budget of connections not proven yet, for a worker that serves
 * `maxConnections` agencies: as many (at least 4, at most 1,024), half of
 * that per source address, a grace of 150 ms before a silent one may be
 * evicted for a newer one; and the refused or evicted ones held for 2 s
 * before their `busy`, twice `maxConnections` of them at most.
 */
export function admissionLimits(
  maxConnections: number,
): AdmissionLimits & HoldLimits {
  const perWorker = Math.min(1_024, Math.max(4, maxConnections));
  return {
    perWorker,
    perAddress: Math.max(1, Math.floor(perWorker / 2)),
    graceMs: 150,
    holdMs: HOLD_MS,
    maxHeld: 2 * maxConnections,
  };
}

/** What a worker's accept loop needs; the listener is opened by `main`. */
export interface ServeOptions {
  /** Answers requests. */
  readonly handler: RequestHandler;
  /** Bytes of batches read and not yet committed (see {@linkcode SessionOptions}). */
  readonly backlogBytes: () => number;
  /** Where the worker's lines go. */
  readonly log: ActionLog;
  /** Longest silence allowed from a peer. */
  readonly idleTimeoutMs: number;
  /** How each connection proves its agency. */
  readonly opening: OpeningOptions;
  /** Proven connections (agencies) beyond which new ones are refused. */
  readonly maxConnections: number;
  /**
   * The separate budget of connections not proven yet (default
   * {@linkcode admissionLimits} of `maxConnections`).
   */
  readonly admission?: AdmissionLimits & HoldLimits;
  /** How long shutdown waits for in-flight requests before closing them. */
  readonly shutdownDeadlineMs: number;
  /** Told the number of open connections whenever it changes (metrics). */
  readonly onConnections?: (open: number) => void;
  /** Told the code of each error reply sent outside a handler (metrics). */
  readonly onRefusal?: (code: ErrorCodeName) => void;
}

/**
 * Accepts connections on `listener` and serves each in its own
 * {@linkcode Session}, concurrently, until `stop` aborts. An accept that
 * fails (a peer that reset before it was accepted, or no file descriptor
 * left, after which it pauses) is logged and the loop goes on: only the
 * listener's close ends it. Connections that have not proven an agency
 * have a budget of their own ({@linkcode Admission}), so a crowd without a
 * key cannot take the places of proven agencies, nor keep new agencies
 * out for long; past `maxConnections` proven ones, or when no room can be
 * made, a peer gets the `busy` error frame, saying when to come back, and
 * is closed ({@linkcode BusyDoor}: an unproven one refused or evicted only
 * after a hold, so a crowd that reconnects at once cannot spin the CPU). Once `stop` aborts it stops
 * accepting (closes the listener), lets in-flight requests finish within
 * the deadline, closes every connection, and returns.
 */
export async function serve(
  listener: Deno.Listener,
  options: ServeOptions,
  stop: AbortSignal,
): Promise<void> {
  const { log } = options;
  const sessions = new Set<Session>();
  const proven = new Set<Session>();
  const limits = options.admission ?? admissionLimits(options.maxConnections);
  const unproven = new Admission<Session>(limits);
  using door = new BusyDoor(log, options.idleTimeoutMs, limits);
  // The course's two lines per connection, up to a budget per window; past
  // it a flood of connections is counted, and summed up in one line.
  using acceptLines = new LineBudget((left) =>
    log.info("accept_connections", "success", {
      unlogged: left.suppressed,
      peers: left.peers,
      ips: left.ips,
      window_ms: left.windowMs,
    })
  );
  // Echo probes' lines, likewise: a flood of text connections is counted.
  using echoLines = new LineBudget(
    (left) =>
      log.info("receive_message", "success", {
        unlogged: left.suppressed,
        peers: left.peers,
        ips: left.ips,
        window_ms: left.windowMs,
        last: left.last,
      }),
    { lines: ECHO_LINES },
  );
  const sessionOptions = { ...options, echoLines };
  const closeListener = () => {
    try {
      listener.close();
    } catch (error) {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    }
  };
  stop.addEventListener("abort", closeListener, { once: true });
  log.info("accept_connections", "in_progress");
  // Out of file descriptors (or memory): pause, so the loop does not spin.
  const backoff = new Backoff(10, 1_000);
  try {
    while (!stop.aborted) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (isClosedError(error)) {
          if (stop.aborted) break;
          throw error;
        }
        // One peer's failure (it reset before we accepted it) or a shortage
        // the kernel will get over: never the worker's end.
        log.warning("accept_connections", "fail", {
          error: (error as Error).message,
        });
        if (isShortage(error)) {
          // Held peers give their descriptors back, and the oldest half of
          // the unproven ones; from now on fewer of both are kept.
          door.shed();
          for (const session of unproven.shrink()) {
            if (session.evict(RETRY_AFTER_MS)) unproven.delete(session);
          }
          await backoff.wait(stop);
        }
        continue;
      }
      backoff.reset();
      const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
      const full = proven.size >= options.maxConnections;
      let room: Room = full
        ? {
          admit: false,
          reason:
            `${proven.size} agencies are connected, the limit is ${options.maxConnections}`,
        }
        : unproven.room(ip);
      if (room.admit && room.evict !== null) {
        const evicted = room.evict;
        if (evicted.evict(RETRY_AFTER_MS, () => door.holdFor(evicted.done))) {
          unproven.delete(evicted);
        } else room = { admit: false, reason: "no connection can make room" };
      }
      if (!room.admit) {
        log.error("accept_connections", "fail", {
          ip,
          error: `Cannot accept connection: ${room.reason}`,
        });
        options.onRefusal?.("busy");
        // A peer refused for want of agencies' places is told at once.
        door.refuse(conn, room.reason, !full);
        continue;
      }
      if (acceptLines.take(ip, "")) {
        log.info("accept_connections", "success", { ip });
        log.info("accept_connections", "in_progress");
      }
      const session: Session = new Session(
        conn,
        sessionOptions,
        () => {
          unproven.delete(session);
          proven.add(session);
        },
      );
      sessions.add(session);
      unproven.add(session, ip);
      options.onConnections?.(sessions.size);
      session.done.then(() => {
        sessions.delete(session);
        unproven.delete(session);
        proven.delete(session);
        options.onConnections?.(sessions.size);
      });
    }
  } finally {
    stop.removeEventListener("abort", closeListener);
    closeListener();
  }
  log.info("listener_closed", "success");
  await closeSessions([...sessions], options);
}

async function closeSessions(
  sessions: Session[],
  { log, shutdownDeadlineMs }: ServeOptions,
): Promise<void> {
  for (const session of sessions) session.stop();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, shutdownDeadlineMs);
  });
  await Promise.race([Promise.all(sessions.map((s) => s.done)), deadline]);
  clearTimeout(timer);
  for (const session of sessions) {
    await session[Symbol.asyncDispose]();
    log.info("connection_closed", "success", { ip: session.ip });
  }
}

function isClosedError(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted;
}

/** Accept errors that say the process (or system) is short of a resource. */
const SHORTAGES: ReadonlySet<string> = new Set([
  "EMFILE",
  "ENFILE",
  "ENOBUFS",
  "ENOMEM",
]);

function isShortage(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && SHORTAGES.has(code);
}

/** Whether a connection gets in, and whom it evicts. */
type Room =
  | { readonly admit: true; readonly evict: Session | null }
  | { readonly admit: false; readonly reason: string };
