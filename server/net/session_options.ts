/**
 * What a session needs besides its connection: the opening exchange's
 * settings and the worker's shared handles.
 *
 * @module
 */
import type { ActionLog } from "../../lib/log.ts";
import type { ErrorCodeName } from "../../protocol/messages.ts";
import type { Authenticator } from "./authenticator.ts";
import type { FailureLog, LineBudget } from "./failure_log.ts";
import type { HelloHandler, RequestHandler } from "./handlers.ts";

/**
 * Longest time, in all, a connection may take to prove its agency (or
 * `IDLE_TIMEOUT`, if shorter): a peer without a key, trickling or silent,
 * holds a connection only this long.
 */
export const HANDSHAKE_TIMEOUT_MS = 5_000;

/** How a session serves the opening exchange. */
export interface OpeningOptions {
  /** Makes the challenge's nonce and checks the proof. */
  readonly authenticator: Authenticator;
  /** Answers a hello once its proof holds. */
  readonly hello: HelloHandler;
  /** Where the fail lines of connections not proven yet go. */
  readonly failures: FailureLog;
  /**
   * Longest time from the accept to the proof (default
   * {@linkcode HANDSHAKE_TIMEOUT_MS}; never longer than the idle timeout).
   */
  readonly timeoutMs?: number;
}

/** What a session needs besides its connection. */
export interface SessionOptions {
  /** Answers requests. */
  readonly handler: RequestHandler;
  /**
   * Bytes of batches the worker has read and not yet committed, across its
   * sessions. Above `MAX_BACKLOG_BYTES` (`session_limits.ts`) a session stops reading
   * ahead, so memory stays flat however many agencies send at once.
   */
  readonly backlogBytes: () => number;
  /** Where the session's lines go. */
  readonly log: ActionLog;
  /**
   * Longest silence allowed between frames, for a frame to complete, and
   * for a write to the peer to make progress.
   */
  readonly idleTimeoutMs: number;
  /** The opening exchange: hello, challenge, proof, welcome. */
  readonly opening: OpeningOptions;
  /** The worker's budget of echo probes' lines (default: every one logged). */
  readonly echoLines?: LineBudget;
  /** Told the code of each error reply the session itself sends (metrics). */
  readonly onRefusal?: (code: ErrorCodeName) => void;
}
