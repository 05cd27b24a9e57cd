/**
 * The keyed digests of the ledger's commit records: whoever can write the
 * storage but does not hold `AUTH_SECRET` cannot forge them, so a row of
 * bets.csv changed, added or removed, with the records recomputed, is
 * still found at start-up.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import type { AgencyRecord, DrawRecord } from "./ledger_record.ts";

/** The MAC an agency's chain starts from: 32 zero bytes. */
export const CHAIN_START: Uint8Array = new Uint8Array(32);

/** The ledger's key, from the central's secret; never logged. */
export type LedgerKey = Uint8Array;

/** The ledger's key: HMAC-SHA256 of `ledger-v1` under `AUTH_SECRET`. */
export function ledgerKey(secret: string): LedgerKey {
  if (secret === "") throw new RangeError("Cannot key the ledger: no secret");
  return new Uint8Array(
    createHmac("sha256", secret).update("ledger-v1").digest(),
  );
}

/**
 * The MAC one commit records for `agency`: HMAC-SHA256 under `key` of the
 * agency's id and new record, the commit's bets.csv size, the SHA-256 of
 * the agency's rows the commit appended (`rows`), and the agency's MAC in
 * its previous commit (`previous`, {@linkcode CHAIN_START} for the first),
 * so a commit deleted or moved breaks the chain after it.
 */
export function commitMac(
  key: LedgerKey,
  agency: number,
  record: AgencyRecord,
  betsSize: number,
  rows: Uint8Array,
  previous: Uint8Array,
): Uint8Array {
  const fields = new Uint8Array(29);
  const view = new DataView(fields.buffer);
  view.setUint32(0, agency);
  view.setFloat64(4, record.bets);
  view.setFloat64(12, record.singles);
  view.setUint8(20, record.finished ? 1 : 0);
  view.setFloat64(21, betsSize);
  return new Uint8Array(
    createHmac("sha256", key).update(fields).update(rows).update(previous)
      .digest(),
  );
}

/**
 * The MAC of a draw record: HMAC-SHA256 under `key` of `draw-v1`, the
 * draw's agencies, the committed size of bets.csv it was made from, the
 * winners file's SHA-256 and whether its line was logged, so a draw record
 * is neither planted nor changed (its line suppressed or repeated) by
 * whoever lacks `AUTH_SECRET`.
 */
export function drawMac(
  key: LedgerKey,
  draw: Omit<DrawRecord, "mac">,
): Uint8Array {
  const fields = new Uint8Array(13);
  const view = new DataView(fields.buffer);
  view.setUint32(0, draw.agencies);
  view.setFloat64(4, draw.betsSize);
  view.setUint8(12, draw.logged ? 1 : 0);
  return new Uint8Array(
    createHmac("sha256", key).update("draw-v1").update(fields).update(
      draw.digest,
    ).digest(),
  );
}
