/**
 * The `apuestas_duplicadas` line of a connection: one per run of resent
 * bets, not one per resent batch.
 *
 * @module
 */
import type { ActionLog } from "../../lib/log.ts";

/**
 * Counts the bets a connection resent (skipped as already stored) and
 * logs them as one `apuestas_duplicadas` line when the run ends: when the
 * connection stores a fresh bet, or when it closes. An agency that resends
 * after a lost acknowledgement writes one line, and a peer that resends
 * the same batch half a million times writes one line too.
 */
export class ResendRun {
  readonly #log: ActionLog;
  readonly #agency: number;
  #bets = 0;
  #batches = 0;

  /**
   * A run of no resent bets yet, for `agency`.
   *
   * @param log where the line goes
   * @param agency the agency the connection speaks for
   */
  constructor(log: ActionLog, agency: number) {
    this.#log = log;
    this.#agency = agency;
  }

  /** A request of which `bets` bets were resends. */
  add(bets: number): void {
    this.#bets += bets;
    this.#batches++;
  }

  /** Ends the run: logs its line, if it counted any bet. Idempotent. */
  end(): void {
    if (this.#bets === 0) return;
    this.#log.info("apuestas_duplicadas", "success", {
      agencia: this.#agency,
      cantidad: this.#bets,
      envios: this.#batches,
    });
    this.#bets = 0;
    this.#batches = 0;
  }
}
