/**
 * A worker's accept loop: one session per connection, and a bounded
 * shutdown.
 *
 * @module
 */
import type { ActionLog } from "../../lib/log.ts";
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
}

/**
 * Accepts connections on `listener` and serves each in its own
 * {@linkcode Session}, concurrently, until `stop` aborts. Then it stops
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
  try {
    for await (const conn of listener) {
      const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
      if (sessions.size >= options.maxConnections) {
        log.error("accept_connections", "fail", {
          ip,
          error:
            `Cannot accept connection: ${sessions.size} are open, the limit is ${options.maxConnections}`,
        });
        conn.close();
        continue;
      }
      log.info("accept_connections", "success", { ip });
      const session = new Session(conn, options);
      sessions.add(session);
      session.done.then(() => sessions.delete(session));
      log.info("accept_connections", "in_progress");
    }
  } catch (error) {
    if (!stop.aborted || !isClosedError(error)) throw error;
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
