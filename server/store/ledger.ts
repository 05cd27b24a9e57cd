/**
 * The ledger file: what each agency has stored and whether it finished.
 *
 * @module
 */
import { concatBytes } from "../../lib/concat_bytes.ts";
import {
  CHAIN_START,
  commitMac,
  drawMac,
  type LedgerKey,
} from "./ledger_mac.ts";
import { openPrivateSync } from "./private_files.ts";
import { verifyBets } from "./verify_bets.ts";
import {
  type AgencyRecord,
  decodeLedgerRecords,
  type DrawRecord,
  EMPTY_DIGEST,
  EMPTY_RECORD,
  encodeDrawRecord,
  encodeLedgerRecord,
  encodeStreamRecord,
  type LedgerCommit,
  type StreamIdentity,
} from "./ledger_record.ts";

/**
 * The ledger: which stream each agency announced, how far it is stored,
 * whether it finished, and how many bytes of bets.csv are committed. It is
 * an append-only file of commit and stream records
 * ({@linkcode encodeLedgerRecord}, {@linkcode encodeStreamRecord}) that
 * every worker opens, read and written only under the storage lock.
 *
 * Each worker keeps the records it has read in memory, a cache of the file
 * that {@linkcode Ledger.refresh} brings up to date (reading only what other
 * workers appended since) once the lock is taken. A commit is one small
 * append and one `fdatasync`: cheaper than a KV commit, and synchronous
 * except for the flush, which is what keeps a group commit short.
 */
export class Ledger implements Disposable {
  #file: Deno.FsFile | null;
  readonly #path: string;
  readonly #key: LedgerKey;
  /** Each agency's MAC in its last commit: the next one chains on it. */
  readonly #macs = new Map<number, Uint8Array>();
  readonly #records = new Map<number, AgencyRecord>();
  readonly #streams = new Map<number, StreamIdentity>();
  #draw: DrawRecord | null = null;
  #betsSize = 0;
  /** Bytes of the file applied to the cache. */
  #applied = 0;
  /** Bytes of torn tails cut off by this handle. */
  #cut = 0;
  /** True if {@linkcode Ledger.open} created the file. */
  readonly created: boolean;

  private constructor(
    file: Deno.FsFile,
    path: string,
    key: LedgerKey,
    created: boolean,
  ) {
    this.#file = file;
    this.#path = path;
    this.#key = key;
    this.created = created;
  }

  /**
   * Opens (creating if needed) the ledger at `path`, whose commits are
   * keyed with `key` (`ledgerKey` in `ledger_mac.ts`); read it with
   * {@linkcode refresh}.
   */
  static open(path: string, key: LedgerKey): Ledger {
    const options = { read: true, append: true };
    try {
      return new Ledger(Deno.openSync(path, options), path, key, false);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return new Ledger(
      openPrivateSync(path, { ...options, create: true }),
      path,
      key,
      true,
    );
  }

  get #handle(): Deno.FsFile {
    if (this.#file === null) {
      throw new Deno.errors.BadResource("Cannot use the ledger: it is closed");
    }
    return this.#file;
  }

  /**
   * Reads what other workers committed since the last call. Hold the
   * storage lock. A torn last record (its writer died while appending, so
   * nothing of it was acknowledged) is cut off, unless `cut` is false (it
   * is then read again, and cut, at the next call). Throws `SyntaxError` if the
   * file is damaged (a whole record that fails its check, wherever it is),
   * and `Error` if it shrank.
   */
  refresh(options: { readonly cut?: boolean } = {}): void {
    const file = this.#handle;
    const size = file.statSync().size;
    if (size === this.#applied) return;
    if (size < this.#applied) {
      throw new Error(
        `Cannot read the ledger: ${this.#path} holds ${size} bytes, ${this.#applied} were read before`,
      );
    }
    const bytes = new Uint8Array(size - this.#applied);
    file.seekSync(this.#applied, Deno.SeekMode.Start);
    for (let at = 0; at < bytes.length;) {
      const n = file.readSync(bytes.subarray(at));
      if (n === null) {
        throw new Error(`Cannot read the ledger: ${this.#path} ended early`);
      }
      at += n;
    }
    const { commits, streams, draws, length } = decodeLedgerRecords(bytes);
    for (const commit of commits) {
      if (commit.betsSize < this.#betsSize) {
        throw new SyntaxError(
          `Cannot read the ledger: a commit record says bets.csv holds ${commit.betsSize} committed bytes after one said ${this.#betsSize} (records moved or forged)`,
        );
      }
      for (const [agency, record] of commit.changed) {
        this.#records.set(agency, record);
      }
      for (const [agency, mac] of commit.macs) this.#macs.set(agency, mac);
      this.#betsSize = commit.betsSize;
    }
    for (const { agency, stream } of streams) {
      if (!this.#streams.has(agency)) this.#streams.set(agency, stream);
    }
    for (const draw of draws) {
      if (!equal(draw.mac, drawMac(this.#key, draw))) {
        throw new SyntaxError(
          "Cannot read the ledger: its draw record does not hold under AUTH_SECRET (written without it, or the secret changed)",
        );
      }
      this.#applyDraw(draw);
    }
    this.#applied += length;
    if (length < bytes.length && options.cut !== false) {
      file.truncateSync(this.#applied);
      this.#cut += bytes.length - length;
    }
  }

  /** Bytes of torn tails (a record cut short, a zero-filled end) this handle cut off. */
  get cutBytes(): number {
    return this.#cut;
  }

  /** The agency's record (zeros if it never sent anything), as of the last refresh. */
  record(agency: number): AgencyRecord {
    return this.#records.get(agency) ?? EMPTY_RECORD;
  }

  /** The stream the agency announced first, or `null`, as of the last refresh. */
  stream(agency: number): StreamIdentity | null {
    return this.#streams.get(agency) ?? null;
  }

  /** The draw's record (`logged` once any record says so), or `null`, as of the last refresh. */
  get draw(): DrawRecord | null {
    return this.#draw;
  }

  #applyDraw(draw: DrawRecord): void {
    this.#draw = this.#draw === null
      ? draw
      : { ...this.#draw, logged: this.#draw.logged || draw.logged };
  }

  /**
   * Appends a draw record, of the committed bets.csv and keyed, and flushes
   * it: the draw made (the commit point that it is made once), or, with
   * `logged`, that its line was written. Hold the storage lock and refresh
   * first.
   */
  async commitDraw(
    draw: Pick<DrawRecord, "agencies" | "digest" | "logged">,
  ): Promise<void> {
    const unkeyed = {
      agencies: draw.agencies,
      betsSize: this.#betsSize,
      digest: draw.digest,
      logged: draw.logged,
    };
    const record = { ...unkeyed, mac: drawMac(this.#key, unkeyed) };
    await this.#append(encodeDrawRecord(record));
    this.#applyDraw(record);
  }

  /** The agencies that finished, in id order, as of the last refresh. */
  finishedAgencies(): number[] {
    const ids: number[] = [];
    for (const [agency, record] of this.#records) {
      if (record.finished) ids.push(agency);
    }
    return ids.sort((a, b) => a - b);
  }

  /** Committed bytes of bets.csv, as of the last refresh. */
  get betsSize(): number {
    return this.#betsSize;
  }

  /**
   * Appends a commit record (the changed agencies' new records and the new
   * committed size of bets.csv), after a stream record for each of
   * `streams` (streams first announced by agencies whose bets this commit
   * stores), and flushes them at once. Hold the storage lock and refresh
   * first. On failure the records are taken back out of the file, as far
   * as the file allows, and the cache is unchanged. The ledger keeps an
   * agency's first stream. `digests` are the SHA-256 of each changed
   * agency's rows this commit appends (missing: no rows); the record keeps
   * their MACs, each chained on the agency's previous one.
   */
  async commit(
    changed: ReadonlyMap<number, AgencyRecord>,
    betsSize: number,
    streams: ReadonlyMap<number, StreamIdentity> = new Map(),
    digests: ReadonlyMap<number, Uint8Array> = new Map(),
  ): Promise<void> {
    const macs = new Map<number, Uint8Array>();
    for (const [agency, record] of changed) {
      macs.set(
        agency,
        commitMac(
          this.#key,
          agency,
          record,
          betsSize,
          digests.get(agency) ?? EMPTY_DIGEST,
          this.#macs.get(agency) ?? CHAIN_START,
        ),
      );
    }
    await this.#append(concatBytes([
      ...Array.from(
        streams,
        ([agency, stream]) => encodeStreamRecord({ agency, stream }),
      ),
      encodeLedgerRecord({ betsSize, changed, macs }),
    ]));
    for (const [agency, mac] of macs) this.#macs.set(agency, mac);
    for (const [agency, stream] of streams) {
      if (!this.#streams.has(agency)) this.#streams.set(agency, stream);
    }
    for (const [agency, record] of changed) this.#records.set(agency, record);
    this.#betsSize = betsSize;
  }

  /**
   * Checks bets.csv (`path`, named `name` in errors) against `commits`,
   * this ledger's decoded from byte 0, under its key: see
   * {@linkcode verifyBets}.
   */
  async verifyBets(
    path: string,
    name: string,
    commits: readonly LedgerCommit[],
  ): Promise<void> {
    await verifyBets(path, name, commits, this.#key);
  }

  /** Appends `bytes` and flushes them, or takes them back out on failure. */
  async #append(bytes: Uint8Array): Promise<void> {
    const file = this.#handle;
    try {
      for (let at = 0; at < bytes.length;) {
        at += file.writeSync(bytes.subarray(at));
      }
      await file.syncData();
    } catch (error) {
      try {
        file.truncateSync(this.#applied);
      } catch (cleanup) {
        throw new AggregateError(
          [error, cleanup],
          "Cannot commit to the ledger, nor take the record back out",
        );
      }
      throw error;
    }
    this.#applied += bytes.length;
  }

  /** Closes the file. Idempotent. */
  [Symbol.dispose](): void {
    this.#file?.close();
    this.#file = null;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
