/**
 * Tests of the start-up check of bets.csv against the ledger's digests,
 * and of the running digests a finish is checked against.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { LedgerCommit } from "./ledger_record.ts";
import { StreamHashes } from "./stream_hashes.ts";
import { verifyBets } from "./verify_bets.ts";

const sha = (text: string) =>
  new Uint8Array(createHash("sha256").update(text).digest());

/** Two commits: agencies 1 and 2 interleaved, then 2 and 3. */
const FIRST = "1,a,7574\n2,b,1\n1,c,2\n";
const SECOND = "2,d,3\n3,e,4\n";
const COMMITS: LedgerCommit[] = [
  {
    betsSize: FIRST.length,
    changed: new Map([
      [1, { bets: 2, singles: 0, finished: false }],
      [2, { bets: 1, singles: 0, finished: false }],
    ]),
    digests: new Map([[1, sha("1,a,7574\n1,c,2\n")], [2, sha("2,b,1\n")]]),
  },
  {
    betsSize: FIRST.length,
    changed: new Map([[1, { bets: 2, singles: 0, finished: true }]]),
  },
  {
    betsSize: FIRST.length + SECOND.length,
    changed: new Map([
      [2, { bets: 2, singles: 0, finished: false }],
      [3, { bets: 1, singles: 0, finished: false }],
    ]),
    digests: new Map([[2, sha("2,d,3\n")], [3, sha("3,e,4\n")]]),
  },
];

async function withFile(
  text: string,
  fn: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tp0-verify-" });
  try {
    const path = join(dir, "bets.csv");
    await Deno.writeTextFile(path, text);
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("intact rows pass; a changed row names its agency and bytes", async () => {
  await withFile(FIRST + SECOND, async (path) => {
    await verifyBets(path, "bets.csv", COMMITS);
  });
  await withFile(FIRST.replace("7574", "7570") + SECOND, async (path) => {
    await assert.rejects(
      () => verifyBets(path, "bets.csv", COMMITS),
      /Cannot trust bets\.csv: agency 1's rows at bytes 0 to 21 differ from the 2 rows committed there/,
    );
  });
});

Deno.test("rows of an agency the commit did not store, or of none, are damage", async () => {
  await withFile(FIRST + SECOND.replace("3,e", "4,e"), async (path) => {
    await assert.rejects(
      () => verifyBets(path, "bets.csv", COMMITS),
      /agency 4 has rows at bytes 27 to 33 where none of its bets were committed/,
    );
  });
  await withFile(FIRST + SECOND.replace("3,e", "x,e"), async (path) => {
    await assert.rejects(
      () => verifyBets(path, "bets.csv", COMMITS),
      /the row at byte 27 has no agency id/,
    );
  });
});

Deno.test("running stream digests, read in steps, equal each agency's whole", async () => {
  await withFile(FIRST + SECOND, async (path) => {
    const hashes = new StreamHashes(path);
    await hashes.advance(FIRST.length);
    assert.deepEqual(hashes.stored(2), { rows: 1, digest: sha("2,b,1\n") });
    await hashes.advance(FIRST.length + SECOND.length);
    assert.deepEqual(hashes.stored(2), {
      rows: 2,
      digest: sha("2,b,1\n2,d,3\n"),
    });
    assert.deepEqual(hashes.stored(1), {
      rows: 2,
      digest: sha("1,a,7574\n1,c,2\n"),
    });
    assert.deepEqual(hashes.stored(9), { rows: 0, digest: sha("") });
    await assert.rejects(() => hashes.advance(3), /were read before/);
  });
});
