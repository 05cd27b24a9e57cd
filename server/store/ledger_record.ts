import { crc32 } from "../../lib/crc32.ts";

/**
 * The bytes of the central's ledger: a sequence of records, each either a
 * commit record, saying what a group commit changed, or a stream record,
 * saying which stream an agency announced. Pure: no file, no clock.
 *
 * A commit record, big-endian:
 *
 * | bytes  | field                                              |
 * |--------|----------------------------------------------------|
 * | 4      | magic `TLG1`                                       |
 * | 4      | n, the agencies the record changes                 |
 * | 8      | committed size of bets.csv after it (float64)      |
 * | 21 × n | agency (u32), bets (f64), singles (f64), finished (u8) |
 * | 4      | CRC-32 of everything before it                     |
 *
 * Each entry is the agency's whole new record, so replaying the records in
 * order rebuilds the state.
 *
 * A stream record (written once per agency, at its first proven hello):
 *
 * | bytes | field                                   |
 * |-------|-----------------------------------------|
 * | 4     | magic `TLS1`                            |
 * | 4     | agency (u32)                            |
 * | 4     | total: bets in its whole stream (u32)   |
 * | 32    | digest: SHA-256 of the stream's rows    |
 * | 4     | CRC-32 of everything before it          |
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

/** One commit: the agencies it changed and the committed size of bets.csv. */
export interface LedgerCommit {
  /** Committed bytes of bets.csv after this commit. */
  readonly betsSize: number;
  /** The changed agencies' new records. */
  readonly changed: ReadonlyMap<number, AgencyRecord>;
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

const MAGIC = 0x544c4731; // "TLG1"
const STREAM_MAGIC = 0x544c5331; // "TLS1"
const HEADER = 16;
const ENTRY = 21;
const TRAILER = 4;
const DIGEST = 32;
const STREAM_RECORD = 12 + DIGEST + TRAILER;

/** Encodes one commit record. */
export function encodeLedgerRecord(commit: LedgerCommit): Uint8Array {
  const n = commit.changed.size;
  const bytes = new Uint8Array(HEADER + ENTRY * n + TRAILER);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC);
  view.setUint32(4, n);
  view.setFloat64(8, commit.betsSize);
  let at = HEADER;
  for (const [agency, record] of commit.changed) {
    view.setUint32(at, agency);
    view.setFloat64(at + 4, record.bets);
    view.setFloat64(at + 12, record.singles);
    view.setUint8(at + 20, record.finished ? 1 : 0);
    at += ENTRY;
  }
  view.setUint32(at, crc32(bytes.subarray(0, at)));
  return bytes;
}

/** Encodes one stream record. Throws `RangeError` for a digest not of 32 bytes. */
export function encodeStreamRecord(record: StreamRecord): Uint8Array {
  const { agency, stream } = record;
  if (stream.digest.length !== DIGEST) {
    throw new RangeError(
      `Cannot encode stream record: the digest has ${stream.digest.length} bytes, not ${DIGEST}`,
    );
  }
  const bytes = new Uint8Array(STREAM_RECORD);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, STREAM_MAGIC);
  view.setUint32(4, agency);
  view.setUint32(8, stream.total);
  bytes.set(stream.digest, 12);
  const end = STREAM_RECORD - TRAILER;
  view.setUint32(end, crc32(bytes.subarray(0, end)));
  return bytes;
}

/** What {@linkcode decodeLedgerRecords} found. */
export interface DecodedLedger {
  /** The whole commit records, in order. */
  readonly commits: LedgerCommit[];
  /** The whole stream records, in order. */
  readonly streams: StreamRecord[];
  /** Bytes those records take; what follows is a torn tail, if anything. */
  readonly length: number;
}

/**
 * Decodes the records of `bytes` (a ledger, or its part after a record
 * boundary). A last record cut short or not matching its checksum is a torn
 * tail (a writer died while appending it, so it was never acknowledged) and
 * is left out: `length` says where the whole records end. Throws
 * `SyntaxError` when a bad record is followed by more bytes, which a torn
 * write cannot cause: the ledger is damaged.
 */
export function decodeLedgerRecords(bytes: Uint8Array): DecodedLedger {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const commits: LedgerCommit[] = [];
  const streams: StreamRecord[] = [];
  let at = 0;
  while (at < bytes.length) {
    const rest = bytes.length - at;
    if (rest < HEADER + TRAILER) break;
    const magic = view.getUint32(at);
    if (magic !== MAGIC && magic !== STREAM_MAGIC) {
      // A power loss can leave the end of a file zero-filled.
      if (bytes.subarray(at).every((b) => b === 0)) break;
      throw new SyntaxError(
        `Cannot read the ledger: no record starts at byte ${at}`,
      );
    }
    const size = magic === STREAM_MAGIC
      ? STREAM_RECORD
      : HEADER + ENTRY * view.getUint32(at + 4) + TRAILER;
    if (rest < size) break;
    const end = at + size - TRAILER;
    if (view.getUint32(end) !== crc32(bytes.subarray(at, end))) {
      if (rest === size) break;
      throw new SyntaxError(
        `Cannot read the ledger: the record at byte ${at} is damaged`,
      );
    }
    if (magic === STREAM_MAGIC) {
      streams.push({
        agency: view.getUint32(at + 4),
        stream: {
          total: view.getUint32(at + 8),
          digest: bytes.slice(at + 12, at + 12 + DIGEST),
        },
      });
      at += size;
      continue;
    }
    const changed = new Map<number, AgencyRecord>();
    for (let e = at + HEADER; e < end; e += ENTRY) {
      changed.set(view.getUint32(e), {
        bets: view.getFloat64(e + 4),
        singles: view.getFloat64(e + 12),
        finished: view.getUint8(e + 20) === 1,
      });
    }
    commits.push({ betsSize: view.getFloat64(at + 8), changed });
    at += size;
  }
  return { commits, streams, length: at };
}
