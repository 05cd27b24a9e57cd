/**
 * How a worker turns peers away: the protocol's `busy` error frame, saying
 * when to come back, then the close; for peers that have not proven an
 * agency, only after a hold, so a keyless crowd that reconnects as soon as
 * it is closed comes back at the pace of the hold, not of the CPU.
 *
 * @module
 */
import type { ActionLog } from "../../lib/log.ts";
import { writeAll } from "../../lib/net.ts";
import { Timer } from "../../lib/timer.ts";
import { encodeMessage } from "../../protocol/messages.ts";

/** When a peer refused for want of room is told to come back, in ms. */
export const RETRY_AFTER_MS = 100;

/** Refused peers at most whose close waits for their end, at first. */
const MAX_DRAINING = 1_024;
/** How long a refused peer's close waits for its end. */
const DRAIN_MS = 1_000;

/** How long unproven peers are held before they are turned away, and how many. */
export interface HoldLimits {
  /**
   * How long a refused (or evicted) unproven peer is held, unread, in ms
   * (0.5 to 1.5 times it, at random).
   */
  readonly holdMs: number;
  /** Peers held at once at most; past it, they are turned away at once. */
  readonly maxHeld: number;
}

/**
 * Turns peers away without ever making the accept loop wait. Held peers
 * cost a file descriptor and a timer each, no CPU; disposing the door
 * closes them at once.
 */
export class BusyDoor implements Disposable {
  readonly #log: ActionLog;
  readonly #idleTimeoutMs: number;
  readonly #holdMs: number;
  /** Holds at most; halved whenever the process runs short of descriptors. */
  #maxHeld: number;
  /** Held peers, with the timer that turns each away. */
  readonly #held = new Map<Deno.Conn, Timer>();
  /** Holds taken for evicted sessions, which hold themselves. */
  #sessionHolds = 0;
  /** Refused peers whose close waits for their end. */
  #draining = 0;
  /** How many may; halved whenever the process runs short of descriptors. */
  #maxDraining = MAX_DRAINING;

  /**
   * A door holding no peer yet.
   *
   * @param log where the failures of a refusal's write go (at DEBUG)
   * @param idleTimeoutMs the longest a refusal's write may take
   * @param limits the hold and its budget
   */
  constructor(log: ActionLog, idleTimeoutMs: number, limits: HoldLimits) {
    this.#log = log;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#holdMs = limits.holdMs;
    this.#maxHeld = limits.maxHeld;
  }

  /**
   * Takes one of the budget's holds for an evicted session and returns how
   * long it holds its peer (0 when the budget is spent); `release` gives
   * the hold back once the session has ended.
   */
  holdFor(release: Promise<void>): number {
    if (!this.#canHold()) return 0;
    this.#sessionHolds++;
    release.finally(() => this.#sessionHolds--);
    return this.#randomHold();
  }

  /**
   * Turns `conn` away: the `busy` frame with `reason`, then the close; for
   * an `unproven` peer after the hold, while the budget lasts.
   */
  refuse(conn: Deno.Conn, reason: string, unproven: boolean): void {
    if (!unproven || !this.#canHold()) {
      this.#turnAway(conn, reason);
      return;
    }
    this.#held.set(
      conn,
      new Timer(this.#randomHold(), () => {
        this.#held.delete(conn);
        this.#turnAway(conn, reason);
      }),
    );
  }

  /**
   * The process is short of file descriptors: every held peer is turned
   * away now, and from now on at most half as many are held, or drained.
   */
  shed(): void {
    this.#maxHeld = Math.floor(this.#holds() / 2);
    this.#maxDraining = Math.floor(this.#draining / 2);
    for (const [conn, timer] of this.#held) {
      timer.cancel();
      this.#turnAway(conn, "the central is short of file descriptors");
    }
    this.#held.clear();
  }

  /** Closes every held peer at once. Idempotent. */
  [Symbol.dispose](): void {
    for (const [conn, timer] of this.#held) {
      timer.cancel();
      close(conn);
    }
    this.#held.clear();
  }

  /** The hold, 0.5 to 1.5 times the limit's, so a crowd's returns spread out. */
  #randomHold(): number {
    return Math.round(this.#holdMs * (0.5 + Math.random()));
  }

  #holds(): number {
    return this.#held.size + this.#sessionHolds;
  }

  #canHold(): boolean {
    return this.#holdMs > 0 && this.#holds() < this.#maxHeld;
  }

  /**
   * The frame and the close, in the background, within the idle deadline.
   * The close waits (up to {@linkcode DRAIN_MS}) for the peer's end,
   * reading what it sent meanwhile: closing with its hello unread would
   * reset the connection, and the peer might lose the frame that tells it
   * when to come back.
   */
  #turnAway(conn: Deno.Conn, reason: string): void {
    const frame = encodeMessage({
      kind: "error",
      code: "busy",
      message: `Cannot accept connection: ${reason}; try again later`,
      retryAfterMs: RETRY_AFTER_MS,
    });
    const drain = this.#draining < this.#maxDraining;
    if (drain) this.#draining++;
    const deadline = new Timer(
      drain ? Math.min(this.#idleTimeoutMs, DRAIN_MS) : this.#idleTimeoutMs,
      () => close(conn),
    );
    writeAll(conn, frame).then(
      () => drain ? drainThenClose(conn, this.#log) : undefined,
      (error: unknown) =>
        this.#log.debug("send_error_reply", "fail", {
          error: (error as Error).message,
        }),
    ).finally(() => {
      if (drain) this.#draining--;
      deadline.cancel();
      close(conn);
    });
  }
}

/**
 * Ends our side, then reads until the peer's end, an error (logged at
 * DEBUG: a refused peer's failure is no news), or the close. Never throws.
 */
async function drainThenClose(conn: Deno.Conn, log: ActionLog): Promise<void> {
  const buffer = new Uint8Array(1024);
  try {
    await conn.closeWrite();
    while (await conn.read(buffer) !== null) {
      // What the peer sent before it read the refusal is of no use.
    }
  } catch (error) {
    log.debug("refused_connection_closed", "fail", {
      error: (error as Error).message,
    });
  }
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}
