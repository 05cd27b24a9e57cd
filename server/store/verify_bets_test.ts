/**
 * Tests of the start-up check of bets.csv against the ledger's MACs,
 * and of the running digests a finish is checked against.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { CHAIN_START, commitMac, ledgerKey } from "./ledger_mac.ts";
import type { AgencyRecord, LedgerCommit } from "./ledger_record.ts";
import { EMPTY_DIGEST } from "./ledger_record.ts";
import { StreamHashes } from "./stream_hashes.ts";
import { verifyBets } from "./verify_bets.ts";

const sha = (text: string) =>
  new Uint8Array(createHash("sha256").update(text).digest());

const KEY = ledgerKey("a test secret");

/** A commit as the central makes it: its rows' digests, for the MACs. */
interface Plain {
  readonly betsSize: number;
  readonly changed: ReadonlyMap<number, AgencyRecord>;
  readonly digests?: ReadonlyMap<number, Uint8Array>;
}

/** The commits with their MACs under `KEY`, chained per agency as the ledger does. */
function keyed(plain: readonly Plain[]): LedgerCommit[] {
  const last = new Map<number, Uint8Array>();
  return plain.map(({ betsSize, changed, digests }) => {
    const macs = new Map<number, Uint8Array>();
    for (const [agency, record] of changed) {
      const mac = commitMac(
        KEY,
        agency,
        record,
        betsSize,
        digests?.get(agency) ?? EMPTY_DIGEST,
        last.get(agency) ?? CHAIN_START,
      );
      macs.set(agency, mac);
      last.set(agency, mac);
    }
    return { betsSize, changed, macs };
  });
}

/** Two commits: agencies 1 and 2 interleaved, then 2 and 3. */
const FIRST = "1,a,7574\n2,b,1\n1,c,2\n";
const SECOND = "2,d,3\n3,e,4\n";
const COMMITS: LedgerCommit[] = keyed([
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
]);

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
    await verifyBets(path, "bets.csv", COMMITS, KEY);
  });
  await withFile(FIRST.replace("7574", "7570") + SECOND, async (path) => {
    await assert.rejects(
      () => verifyBets(path, "bets.csv", COMMITS, KEY),
      /Cannot trust bets\.csv: agency 1's rows at bytes 0 to 21 differ from the 2 rows committed there/,
    );
  });
});

Deno.test("a row changed with its commit's digest recomputed without the key is found", async () => {
  const edited = FIRST.replace("7574", "7570");
  const forged = COMMITS.map((commit, i) =>
    i !== 0 ? commit : {
      ...commit,
      macs: new Map([
        ...commit.macs,
        [1, sha("1,a,7570\n1,c,2\n")],
      ]),
    }
  );
  await withFile(edited + SECOND, async (path) => {
    await assert.rejects(
      () => verifyBets(path, "bets.csv", forged, KEY),
      /agency 1's rows at bytes 0 to 21 differ/,
    );
    // Nor does another key make the intact file pass.
    await assert.rejects(
      () => verifyBets(path, "bets.csv", COMMITS, ledgerKey("another secret")),
      /agency 1's rows/,
    );
  });
});

Deno.test("a middle commit deleted is found: each MAC chains on the agency's previous one", async () => {
  const rows = "1,a,1\n";
  const commits = keyed([
    {
      betsSize: rows.length,
      changed: new Map([[1, { bets: 1, singles: 0, finished: false }]]),
      digests: new Map([[1, sha(rows)]]),
    },
    {
      betsSize: rows.length,
      changed: new Map([[1, { bets: 1, singles: 0, finished: false }]]),
    },
    {
      betsSize: rows.length,
      changed: new Map([[1, { bets: 1, singles: 0, finished: true }]]),
    },
  ]);
  await withFile(rows, async (path) => {
    await verifyBets(path, "bets.csv", commits, KEY);
    await assert.rejects(
      () => verifyBets(path, "bets.csv", [commits[0]!, commits[2]!], KEY),
      /agency 1's rows at bytes 1 to 1 differ|agency 1's rows at bytes 6 to 6 differ/,
    );
  });
});

Deno.test("rows of an agency the commit did not store, or of none, are damage", async () => {
  await withFile(FIRST + SECOND.replace("3,e", "4,e"), async (path) => {
    await assert.rejects(
      () => verifyBets(path, "bets.csv", COMMITS, KEY),
      /agency 4 has rows at bytes 27 to 33 where none of its bets were committed/,
    );
  });
  await withFile(FIRST + SECOND.replace("3,e", "x,e"), async (path) => {
    await assert.rejects(
      () => verifyBets(path, "bets.csv", COMMITS, KEY),
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
