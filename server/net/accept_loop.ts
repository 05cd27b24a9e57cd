/**
 * A worker's accept loop: one session per connection, and a bounded
 * shutdown.
 *
 * @module
 */
import { Backoff } from "../../lib/backoff.ts";
import type { ActionLog } from "../../lib/log.ts";
import { writeAll } from "../../lib/net.ts";
import { Timer } from "../../lib/timer.ts";
import { encodeMessage, type ErrorCodeName } from "../../protocol/messages.ts";
import type { RequestHandler } from "./handlers.ts";
import { type OpeningOptions, Session } from "./session.ts";

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
  /** Open connections beyond which new ones are refused. */
  readonly maxConnections: number;
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
 * listener's close ends it. Past `maxConnections` a peer gets the `busy`
 * error frame and is closed. Once `stop` aborts it stops
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
        if (isShortage(error)) await backoff.wait(stop);
        continue;
      }
      backoff.reset();
      const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
      if (sessions.size >= options.maxConnections) {
        log.error("accept_connections", "fail", {
          ip,
          error:
            `Cannot accept connection: ${sessions.size} are open, the limit is ${options.maxConnections}`,
        });
        options.onRefusal?.("busy");
        refuseBusy(conn, options);
        continue;
      }
      log.info("accept_connections", "success", { ip });
      const session = new Session(conn, options);
      sessions.add(session);
      options.onConnections?.(sessions.size);
      session.done.then(() => {
        sessions.delete(session);
        options.onConnections?.(sessions.size);
      });
      log.info("accept_connections", "in_progress");
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

/**
 * Past the connection limit: the protocol's `busy` error frame (the agency
 * retries later), then the close. Written in the background, within the
 * idle deadline, so the accept loop never waits on a peer.
 */
function refuseBusy(conn: Deno.Conn, options: ServeOptions): void {
  const frame = encodeMessage({
    kind: "error",
    code: "busy",
    message:
      `Cannot accept connection: the central is at its limit of ${options.maxConnections}; try again later`,
  });
  const deadline = new Timer(options.idleTimeoutMs, () => close(conn));
  writeAll(conn, frame).then(
    () => {},
    (error: unknown) =>
      options.log.debug("send_error_reply", "fail", {
        error: (error as Error).message,
      }),
  ).finally(() => {
    deadline.cancel();
    close(conn);
  });
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}
