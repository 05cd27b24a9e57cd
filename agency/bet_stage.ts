/**
 * The agency's bet stage (exercise 5): one bet from the environment, sent
 * as a stream of one and acknowledged.
 *
 * @module
 */
import { canonicalBetLine } from "../lib/bet_row.ts";
import { currentDay } from "../lib/bet.ts";
import { formatCsvRow } from "../lib/csv.ts";
import type { ActionLog } from "../lib/log.ts";
import { encodeMessage, type WireBet } from "../protocol/messages.ts";
import type { CentralClient } from "./central_client.ts";
import { expectAnswer } from "./central_refused_error.ts";
import { sha256 } from "./stream_digest.ts";

/**
 * The row the central stores for the single bet, which is the whole
 * stream of the bet stage (its hello says total 1 and this row's digest).
 */
export function singleBetRow(
  agency: number,
  bet: WireBet,
  today: string = currentDay(),
): string {
  const line = formatCsvRow([
    bet.firstName,
    bet.lastName,
    bet.document,
    bet.birthdate,
    bet.number,
  ]);
  return `${agency},${canonicalBetLine(line, agency, today)}\n`;
}

/**
 * Exercise 5: sends the one bet of `NOMBRE` … `NUMERO` and, once the
 * central confirms it, logs `apuesta_enviada` with its DNI and number.
 * Throws if the central refuses it or cannot be reached.
 */
export async function runBetStage(
  agency: number,
  bet: WireBet,
  client: Pick<CentralClient, "announce" | "request">,
  log: ActionLog,
): Promise<void> {
  const row = new TextEncoder().encode(singleBetRow(agency, bet));
  client.announce({ agency, total: 1, digest: await sha256([row]) });
  const frame = encodeMessage({ kind: "bet", agency, bet });
  expectAnswer(await client.request(frame), "ack");
  log.info("apuesta_enviada", "success", {
    dni: bet.document,
    numero: bet.number,
  });
}
