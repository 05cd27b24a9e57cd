/**
 * Tests of the ledger's records.
 *
 * @module
 */
import assert from "node:assert/strict";
import { concat } from "../../protocol/test_fixtures.ts";
import {
  type AgencyRecord,
  decodeLedgerRecords,
  type DrawRecord,
  EMPTY_DIGEST,
  encodeDrawRecord,
  encodeLedgerRecord,
  encodeStreamRecord,
  type LedgerCommit,
  type StreamRecord,
} from "./ledger_record.ts";

const commit = (
  betsSize: number,
  entries: [number, AgencyRecord][],
): LedgerCommit => ({
  betsSize,
  changed: new Map(entries),
  macs: new Map(
    entries.map(([agency], i) => [
      agency,
      i === 0 ? EMPTY_DIGEST : new Uint8Array(32).fill(agency & 0xff),
    ]),
  ),
});

const COMMITS = [
  commit(4_096, [[1, { bets: 160, singles: 0, finished: false }], [
    7,
    { bets: 2 ** 40, singles: 3, finished: false },
  ]]),
  commit(4_096, [[1, { bets: 160, singles: 0, finished: true }]]),
  commit(1e12, [[2, { bets: 1, singles: 0, finished: false }]]),
];

const STREAMS: StreamRecord[] = [
  { agency: 3, stream: { total: 0, digest: new Uint8Array(32) } },
  {
    agency: 0xffff_ffff,
    stream: {
      total: 0xffff_ffff,
      digest: Uint8Array.from({ length: 32 }, (_, i) => i * 7),
    },
  },
];

Deno.test("ledger records round-trip", () => {
  const records = COMMITS.map(encodeLedgerRecord);
  const bytes = concat(...records);
  assert.deepEqual(decodeLedgerRecords(bytes), {
    commits: COMMITS,
    streams: [],
    draws: [],
    length: bytes.length,
  });
  assert.deepEqual(decodeLedgerRecords(new Uint8Array()), {
    commits: [],
    streams: [],
    draws: [],
    length: 0,
  });
  // Every changed agency has its MAC.
  const bare = { betsSize: 5, changed: COMMITS[0]!.changed, macs: new Map() };
  assert.throws(() => encodeLedgerRecord(bare), /no MAC for agency 1/);
});

Deno.test("draw records round-trip among the others", () => {
  const draws: DrawRecord[] = [
    {
      agencies: 5,
      betsSize: 5,
      digest: new Uint8Array(32).fill(9),
      logged: false,
      mac: new Uint8Array(32).fill(1),
    },
    {
      agencies: 5,
      betsSize: 5,
      digest: new Uint8Array(32).fill(9),
      logged: true,
      mac: new Uint8Array(32).fill(2),
    },
  ];
  const bytes = concat(
    encodeLedgerRecord(COMMITS[0]!),
    encodeDrawRecord(draws[0]!),
    encodeDrawRecord(draws[1]!),
  );
  assert.deepEqual(decodeLedgerRecords(bytes), {
    commits: [COMMITS[0]!],
    streams: [],
    draws,
    length: bytes.length,
  });
});

Deno.test("stream records round-trip among commit records", () => {
  const bytes = concat(
    encodeStreamRecord(STREAMS[0]!),
    encodeLedgerRecord(COMMITS[0]!),
    encodeStreamRecord(STREAMS[1]!),
    encodeLedgerRecord(COMMITS[1]!),
  );
  assert.deepEqual(decodeLedgerRecords(bytes), {
    commits: COMMITS.slice(0, 2),
    streams: STREAMS,
    draws: [],
    length: bytes.length,
  });
  // A torn stream record at the end is left out, wherever it was cut.
  const whole = bytes.length;
  const torn = concat(bytes, encodeStreamRecord(STREAMS[0]!));
  for (let cut = whole; cut < torn.length; cut++) {
    const decoded = decodeLedgerRecords(torn.subarray(0, cut));
    assert.equal(decoded.length, whole, `cut at ${cut}`);
    assert.equal(decoded.streams.length, 2);
  }
  // A damaged one before the end is an error.
  const damaged = bytes.slice();
  damaged[20]! ^= 0x01;
  assert.throws(() => decodeLedgerRecords(damaged), /record at byte 0/);
  assert.throws(
    () =>
      encodeStreamRecord({
        agency: 1,
        stream: { total: 1, digest: new Uint8Array(31) },
      }),
    RangeError,
  );
});

Deno.test("a torn last record is left out, whatever its length", () => {
  const records = COMMITS.map(encodeLedgerRecord);
  const whole = records[0]!.length + records[1]!.length;
  const bytes = concat(...records);
  for (let cut = whole; cut < bytes.length; cut++) {
    const decoded = decodeLedgerRecords(bytes.subarray(0, cut));
    assert.equal(decoded.length, whole, `cut at ${cut}`);
    assert.deepEqual(decoded.commits, COMMITS.slice(0, 2));
  }
  // The last record complete but failing its check is damage, not a torn
  // write: its rows were acknowledged.
  const garbled = bytes.slice();
  garbled[bytes.length - 2]! ^= 0xff;
  assert.throws(
    () => decodeLedgerRecords(garbled),
    /the record at byte \d+ is damaged/,
  );
  // A damaged count in the last header cannot pass for a record cut short.
  const counted = bytes.slice();
  counted[whole + 7]! ^= 0x40;
  assert.throws(
    () => decodeLedgerRecords(counted),
    /the record header at byte \d+ is damaged/,
  );
  // A zero-filled end.
  const zeros = concat(...records, new Uint8Array(50));
  assert.equal(decodeLedgerRecords(zeros).length, bytes.length);
});

Deno.test("damage before the last record is an error, not a torn tail", () => {
  const records = COMMITS.map(encodeLedgerRecord);
  const bytes = concat(...records);
  const garbled = bytes.slice();
  garbled[20]! ^= 0x01;
  assert.throws(
    () => decodeLedgerRecords(garbled),
    (e) =>
      e instanceof SyntaxError && /record at byte 0 is damaged/.test(e.message),
  );
  const shifted = concat(records[0]!, new Uint8Array([1]), records[1]!);
  assert.throws(
    () => decodeLedgerRecords(shifted),
    /no record starts at byte/,
  );
});

Deno.test("a ledger of an older version (TLG1, TLG2: digests not keyed) is refused as such", () => {
  for (const magic of ["TLG1", "TLG2"]) {
    const bytes = new Uint8Array(64);
    bytes.set(new TextEncoder().encode(magic));
    assert.throws(
      () => decodeLedgerRecords(bytes),
      /written by an older version \(no keyed digests of the stored rows\)/,
    );
  }
});
