import { crc32 } from "../../lib/crc32.ts";

/**
 * The bytes of the central's ledger: a sequence of records, each a commit
 * record (what a group commit changed), a stream record (which stream an
 * agency announced) or a draw record (the draw made, then its line
 * logged). Pure: no file, no clock.
 *
 * A commit record, big-endian:
 *
 * | bytes  | field                                              |
 * |--------|----------------------------------------------------|
 * | 4      | magic `TLG3`                                       |
 * | 4      | n, the agencies the record changes                 |
 * | 8      | committed size of bets.csv after it (float64)      |
 * | 4      | CRC-32 of the 16 bytes before it (the header)      |
 * | 53 × n | agency (u32), bets (f64), singles (f64), finished (u8), MAC of the agency's rows this commit appended (`ledger_mac.ts`) |
 * | 4      | CRC-32 of everything before it                     |
 *
 * Each entry is the agency's whole new record, so replaying the records in
 * order rebuilds the state; its MAC (keyed by `AUTH_SECRET`, chained per
 * agency) lets start-up check bets.csv and the records themselves.
 *
 * A stream record (once per agency, with its first commit):
 * magic `TLS1`, agency (u32), total (u32), the stream's SHA-256 (32), CRC-32.
 *
 * A draw record: magic `TLD2`, agencies (u32), committed size of bets.csv
 * when it was made (f64), SHA-256 of the winners file (32), logged (u8: 0
 * made, 1 its `sorteo` line written), its MAC (32, `drawMac` in
 * `ledger_mac.ts`), CRC-32.
 *
 * @module
 */

/** What the central knows of one agency. */
export interface AgencyRecord {
  /** Batched bets stored: the agency's stream is stored up to this position. */
  readonly bets: number;
  /**
   * Single bets stored outside the stream (by versions before the single
   * bet became position 0 of a stream of 1; always 0 now).
   */
  readonly singles: number;
  /** The agency said it had sent everything. */
  readonly finished: boolean;
}

/** An agency that never sent anything. */
export const EMPTY_RECORD: AgencyRecord = {
  bets: 0,
  singles: 0,
  finished: false,
};

/** SHA-256 of no bytes: the rows of an agency a commit appended none of. */
export const EMPTY_DIGEST: Uint8Array = Uint8Array.from(
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    .match(/../g)!,
  (h) => parseInt(h, 16),
);

/** One commit: the agencies it changed and the committed size of bets.csv. */
export interface LedgerCommit {
  /** Committed bytes of bets.csv after this commit. */
  readonly betsSize: number;
  /** The changed agencies' new records. */
  readonly changed: ReadonlyMap<number, AgencyRecord>;
  /**
   * Each changed agency's MAC (`commitMac` in `ledger_mac.ts`) over its rows in what
   * this commit appended to bets.csv, 32 bytes.
   */
  readonly macs: ReadonlyMap<number, Uint8Array>;
}

/** The stream an agency announced in its hello: the identity of its bets. */
export interface StreamIdentity {
  /** Bets in the whole stream. */
  readonly total: number;
  /** SHA-256 of the stream's stored rows, 32 bytes. */
  readonly digest: Uint8Array;
}

/** One stream record: the stream `agency` announced first. */
export interface StreamRecord {
  /** The agency. */
  readonly agency: number;
  /** Its stream. */
  readonly stream: StreamIdentity;
}

/** One draw record: the draw of `agencies` agencies, made or logged. */
export interface DrawRecord {
  /** Agencies the draw was made for (ids 1 to this). */
  readonly agencies: number;
  /** Committed bytes of bets.csv the draw was made from. */
  readonly betsSize: number;
  /** SHA-256 of the winners file, 32 bytes. */
  readonly digest: Uint8Array;
  /** True once its `sorteo` line was written. */
  readonly logged: boolean;
  /** Its MAC under the ledger's key (`drawMac` in `ledger_mac.ts`), 32 bytes. */
  readonly mac: Uint8Array;
}

const MAGIC = 0x544c4733; // "TLG3"
/**
 * "TLG1" (before the rows' digests), "TLG2" (digests not keyed), "TLD1"
 * (a draw record not keyed).
 */
const OLD_MAGICS = [0x544c4731, 0x544c4732, 0x544c4431];
const STREAM_MAGIC = 0x544c5331; // "TLS1"
const DRAW_MAGIC = 0x544c4432; // "TLD2"
const HEADER = 20;
const DIGEST = 32;
const ENTRY = 21 + DIGEST;
const TRAILER = 4;
const STREAM_RECORD = 12 + DIGEST + TRAILER;
const DRAW_RECORD = 16 + DIGEST + 1 + DIGEST + TRAILER;

/** Encodes one commit record. Throws `RangeError` for one of no agency. */
export function encodeLedgerRecord(commit: LedgerCommit): Uint8Array {
  const n = commit.changed.size;
  if (n === 0) {
    throw new RangeError("Cannot encode ledger record: it changes no agency");
  }
  const bytes = new Uint8Array(HEADER + ENTRY * n + TRAILER);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC);
  view.setUint32(4, n);
  view.setFloat64(8, commit.betsSize);
  view.setUint32(16, crc32(bytes.subarray(0, 16)));
  let at = HEADER;
  for (const [agency, record] of commit.changed) {
    view.setUint32(at, agency);
    view.setFloat64(at + 4, record.bets);
    view.setFloat64(at + 12, record.singles);
    view.setUint8(at + 20, record.finished ? 1 : 0);
    const mac = commit.macs.get(agency);
    if (mac === undefined) {
      throw new RangeError(
        `Cannot encode ledger record: no MAC for agency ${agency}`,
      );
    }
    bytes.set(digestOf(mac), at + 21);
    at += ENTRY;
  }
  view.setUint32(at, crc32(bytes.subarray(0, at)));
  return bytes;
}

/** Encodes one stream record. Throws `RangeError` for a digest not of 32 bytes. */
export function encodeStreamRecord(record: StreamRecord): Uint8Array {
  const { agency, stream } = record;
  const bytes = new Uint8Array(STREAM_RECORD);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, STREAM_MAGIC);
  view.setUint32(4, agency);
  view.setUint32(8, stream.total);
  bytes.set(digestOf(stream.digest), 12);
  return sealed(bytes);
}

/**
 * Encodes one draw record. Throws `RangeError` for a digest or MAC not of
 * 32 bytes.
 */
export function encodeDrawRecord(record: DrawRecord): Uint8Array {
  const bytes = new Uint8Array(DRAW_RECORD);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, DRAW_MAGIC);
  view.setUint32(4, record.agencies);
  view.setFloat64(8, record.betsSize);
  bytes.set(digestOf(record.digest), 16);
  view.setUint8(16 + DIGEST, record.logged ? 1 : 0);
  bytes.set(digestOf(record.mac), 17 + DIGEST);
  return sealed(bytes);
}

function digestOf(digest: Uint8Array): Uint8Array {
  if (digest.length !== DIGEST) {
    throw new RangeError(
      `Cannot encode ledger record: the digest has ${digest.length} bytes, not ${DIGEST}`,
    );
  }
  return digest;
}

/** `bytes` with the CRC-32 of all but its last 4 bytes written there. */
function sealed(bytes: Uint8Array): Uint8Array {
  const end = bytes.length - TRAILER;
  new DataView(bytes.buffer).setUint32(end, crc32(bytes.subarray(0, end)));
  return bytes;
}

/** What {@linkcode decodeLedgerRecords} found. */
export interface DecodedLedger {
  /** The whole commit records, in order. */
  readonly commits: LedgerCommit[];
  /** The whole stream records, in order. */
  readonly streams: StreamRecord[];
  /** The whole draw records, in order. */
  readonly draws: DrawRecord[];
  /** Bytes those records take; what follows is a torn tail, if anything. */
  readonly length: number;
}

/**
 * Decodes the records of `bytes` (a ledger, or its part after a record
 * boundary). A last record cut short (a writer died while appending it, so
 * it was never acknowledged), or a zero-filled end (a power loss), is a
 * torn tail and left out: `length` says where the whole records end. A
 * record of full length whose checksum fails is damage, never a torn
 * write, wherever it is: throws `SyntaxError` naming its byte, as for
 * bytes where no record starts. (A commit record's header has its own
 * checksum, so a damaged count cannot make a whole record look cut short.)
 */
export function decodeLedgerRecords(bytes: Uint8Array): DecodedLedger {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoded: DecodedLedger = {
    commits: [],
    streams: [],
    draws: [],
    length: 0,
  };
  let at = 0;
  const damaged = (what: string) =>
    new SyntaxError(`Cannot read the ledger: ${what} at byte ${at} is damaged`);
  while (at < bytes.length) {
    const rest = bytes.length - at;
    if (rest < 4) break;
    const magic = view.getUint32(at);
    let size: number;
    if (magic === STREAM_MAGIC) size = STREAM_RECORD;
    else if (magic === DRAW_MAGIC) size = DRAW_RECORD;
    else if (magic === MAGIC) {
      if (rest < HEADER) break;
      if (view.getUint32(at + 16) !== crc32(bytes.subarray(at, at + 16))) {
        throw damaged("the record header");
      }
      size = HEADER + ENTRY * view.getUint32(at + 4) + TRAILER;
    } else {
      if (bytes.subarray(at).every((b) => b === 0)) break;
      if (OLD_MAGICS.includes(magic)) {
        throw new SyntaxError(
          "Cannot read the ledger: it was written by an older version (no keyed digests of the stored rows); move the storage directory away to start afresh",
        );
      }
      throw new SyntaxError(
        `Cannot read the ledger: no record starts at byte ${at}`,
      );
    }
    if (rest < size) break;
    const end = at + size - TRAILER;
    if (view.getUint32(end) !== crc32(bytes.subarray(at, end))) {
      throw damaged("the record");
    }
    if (magic === STREAM_MAGIC) {
      decoded.streams.push({
        agency: view.getUint32(at + 4),
        stream: {
          total: view.getUint32(at + 8),
          digest: bytes.slice(at + 12, at + 12 + DIGEST),
        },
      });
    } else if (magic === DRAW_MAGIC) {
      const betsSize = view.getFloat64(at + 8);
      if (!isCount(betsSize)) throw damaged("the draw record");
      decoded.draws.push({
        agencies: view.getUint32(at + 4),
        betsSize,
        digest: bytes.slice(at + 16, at + 16 + DIGEST),
        logged: view.getUint8(at + 16 + DIGEST) === 1,
        mac: bytes.slice(at + 17 + DIGEST, at + 17 + 2 * DIGEST),
      });
    } else {
      const commit = decodeCommit(bytes, view, at, end);
      // Whole and checksummed, yet not a commit any writer makes: damage.
      if (commit === null) throw damaged("the commit record");
      decoded.commits.push(commit);
    }
    at += size;
  }
  return { ...decoded, length: at };
}

/**
 * The commit at `at`, or `null` when it is not one a writer makes: no
 * agency, an agency twice, or a size or count that is not a whole number.
 */
function decodeCommit(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  end: number,
): LedgerCommit | null {
  const betsSize = view.getFloat64(at + 8);
  if (end === at + HEADER || !isCount(betsSize)) return null;
  const changed = new Map<number, AgencyRecord>();
  const macs = new Map<number, Uint8Array>();
  for (let e = at + HEADER; e < end; e += ENTRY) {
    const agency = view.getUint32(e);
    const record = {
      bets: view.getFloat64(e + 4),
      singles: view.getFloat64(e + 12),
      finished: view.getUint8(e + 20) === 1,
    };
    if (
      changed.has(agency) || !isCount(record.bets) || !isCount(record.singles)
    ) return null;
    changed.set(agency, record);
    macs.set(agency, bytes.slice(e + 21, e + ENTRY));
  }
  return { betsSize, changed, macs };
}

/** A whole number from 0 up to `Number.MAX_SAFE_INTEGER`. */
function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
