import type { ActionLog } from "../lib/log.ts";
import { encodeMessage, type WireBet } from "../protocol/messages.ts";
import type { CentralClient } from "./central_client.ts";
import { expectAnswer } from "./central_refused_error.ts";

/**
 * Exercise 5: sends the one bet of `NOMBRE` … `NUMERO` and, once the
 * central confirms it, logs `apuesta_enviada` with its DNI and number.
 * Throws if the central refuses it or cannot be reached.
 */
export async function runBetStage(
  agency: number,
  bet: WireBet,
  client: CentralClient,
  log: ActionLog,
): Promise<void> {
  const frame = encodeMessage({ kind: "bet", agency, bet });
  expectAnswer(await client.request(frame), "ack");
  log.info("apuesta_enviada", "success", {
    dni: bet.document,
    numero: bet.number,
  });
}
