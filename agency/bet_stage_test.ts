/**
 * Tests of the bet stage against a scripted central.
 *
 * @module
 */
import assert from "node:assert/strict";
import { toStorageRows } from "../lib/bet_row.ts";
import type { ProvenHello } from "../lib/agency_auth.ts";
import { createLog } from "../lib/log.ts";
import { HEADER_SIZE } from "../protocol/frame.ts";
import { decodeMessage, type Response } from "../protocol/messages.ts";
import { runBetStage, singleBetRow } from "./bet_stage.ts";
import { sha256 } from "./stream_digest.ts";

const BET = {
  firstName: "Rivera, Tiago",
  lastName: 'Nicolás "el Tano"',
  document: "34407251",
  birthdate: "2001-08-29",
  number: "07574",
};

Deno.test("the single bet's row is the row the central stores for it", () => {
  const row = singleBetRow(4, BET, "2026-12-01");
  assert.equal(
    row,
    '4,"Rivera, Tiago","Nicolás ""el Tano""",34407251,2001-08-29,7574\n',
  );
  const body = new TextEncoder().encode(row);
  assert.deepEqual(toStorageRows(4, body, 1, "2026-12-01").bytes, body);
});

Deno.test("the bet stage announces a stream of one bet whose digest is its row", async () => {
  const announced: ProvenHello[] = [];
  const sent: string[] = [];
  await runBetStage(4, BET, {
    announce: (hello) => announced.push(hello),
    request(frame: Uint8Array): Promise<Response[]> {
      const message = decodeMessage({
        type: frame[0]!,
        payload: frame.subarray(HEADER_SIZE),
      });
      sent.push(message.kind);
      return Promise.resolve([
        { kind: "ack", first: 0, count: 1, duplicate: false },
      ]);
    },
  }, createLog("ERROR", () => {}));
  const row = new TextEncoder().encode(singleBetRow(4, BET));
  assert.deepEqual(announced, [
    { agency: 4, total: 1, digest: await sha256([row]) },
  ]);
  assert.deepEqual(sent, ["bet"]);
});
