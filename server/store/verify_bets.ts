/**
 * The start-up check of bets.csv against the ledger: every committed byte
 * is read once, in order, and each commit's rows are hashed per agency and
 * the keyed, chained MACs of those digests compared with the ones that
 * commit recorded.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { CHAIN_START, commitMac, type LedgerKey } from "./ledger_mac.ts";
import type { LedgerCommit } from "./ledger_record.ts";
import { EMPTY_DIGEST } from "./ledger_record.ts";
import { agencyRuns, NO_AGENCY, readRows } from "./row_runs.ts";

/** An agency's rows within one commit's bytes, as read. */
interface Seen {
  readonly hash: Hash;
  rows: number;
  /** File offsets of its first row's start and its last row's end. */
  readonly first: number;
  last: number;
}

/**
 * Reads bets.csv (`path`, named `name` in errors) from byte 0 to the last
 * commit's size and checks each commit's bytes: the rows of each agency it
 * changed are as many as its bet count grew by and, with its record and
 * its previous MAC, give the MAC it recorded under `key`, and no other
 * agency's rows are there. Throws an `Error` naming the file, the agency
 * and the byte range at the first mismatch.
 */
export async function verifyBets(
  path: string,
  name: string,
  commits: readonly LedgerCommit[],
  key: LedgerKey,
): Promise<void> {
  const size = commits.at(-1)?.betsSize ?? 0;
  const stored = new Map<number, { count: number; mac: Uint8Array }>();
  let index = 0;
  let segmentStart = 0;
  let seen = new Map<number, Seen>();
  const damaged = (what: string) =>
    new Error(
      `Cannot trust ${name}: ${what}; restore it from a backup (or, if AUTH_SECRET changed since it was stored, start with the secret it was stored under)`,
    );
  /** Checks commits whose bytes end at or before `at`. */
  const close = (at: number) => {
    for (; index < commits.length && commits[index]!.betsSize <= at; index++) {
      const commit = commits[index]!;
      if (commit.betsSize < segmentStart) {
        throw damaged(`the ledger's commit ${index} shrinks it`);
      }
      checkCommit(commit, segmentStart, seen, stored, key, damaged);
      segmentStart = commit.betsSize;
      seen = new Map();
    }
  };
  close(0);
  for await (const { bytes, end, offset } of readRows(path, 0, size)) {
    let from = 0;
    while (from < end) {
      const segmentEnd = commits[index]!.betsSize - offset;
      const to = Math.min(end, segmentEnd);
      agencyRuns(bytes, from, to, (agency, start, stop, rows) => {
        if (agency === NO_AGENCY) {
          throw damaged(`the row at byte ${offset + start} has no agency id`);
        }
        const found = seen.get(agency);
        const part = bytes.subarray(start, stop);
        if (found === undefined) {
          seen.set(agency, {
            hash: createHash("sha256").update(part),
            rows,
            first: offset + start,
            last: offset + stop,
          });
        } else {
          found.hash.update(part);
          found.rows += rows;
          found.last = offset + stop;
        }
      });
      from = to;
      close(offset + to);
    }
  }
  if (index < commits.length) {
    throw damaged(
      `it ends before byte ${
        commits[index]!.betsSize
      }, where the ledger's commit ${index} ends`,
    );
  }
}

function checkCommit(
  commit: LedgerCommit,
  start: number,
  seen: ReadonlyMap<number, Seen>,
  stored: Map<number, { count: number; mac: Uint8Array }>,
  key: LedgerKey,
  damaged: (what: string) => Error,
): void {
  const range = (rows: Seen | undefined) =>
    rows === undefined
      ? `bytes ${start} to ${commit.betsSize}`
      : `bytes ${rows.first} to ${rows.last}`;
  for (const [agency, rows] of seen) {
    if (!commit.changed.has(agency)) {
      throw damaged(
        `agency ${agency} has rows at ${
          range(rows)
        } where none of its bets were committed`,
      );
    }
  }
  for (const [agency, record] of commit.changed) {
    const previous = stored.get(agency);
    const before = previous?.count ?? 0;
    const count = record.bets + record.singles;
    const rows = seen.get(agency);
    const mac = commitMac(
      key,
      agency,
      record,
      commit.betsSize,
      rows?.hash.digest() ?? EMPTY_DIGEST,
      previous?.mac ?? CHAIN_START,
    );
    const expected = commit.macs.get(agency);
    if (
      (rows?.rows ?? 0) !== count - before || expected === undefined ||
      !equal(mac, expected)
    ) {
      throw damaged(
        `agency ${agency}'s rows at ${range(rows)} differ from the ${
          count - before
        } rows committed there`,
      );
    }
    stored.set(agency, { count, mac });
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
