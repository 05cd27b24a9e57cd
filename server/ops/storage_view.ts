/**
 * A read-only view of a storage directory, for `central status` and the
 * supervisor's `/metrics`: what each agency has stored of the stream it
 * announced, whether it finished, and the draw. It never takes the storage
 * lock and never writes: it reads the ledger's new bytes with the store's
 * own decoder (a torn last record, one being appended, is left for the next
 * read). The ledger says whether the draw is made; its figures come from the
 * KV file's summary, or from the digest-checked winners file when the KV
 * file lost it.
 *
 * @module
 */
import { join } from "node:path";
import {
  type AgencyRecord,
  decodeLedgerRecords,
  type DrawRecord,
  type StreamIdentity,
} from "../store/ledger_record.ts";
import { verifiedDraw } from "../store/draw_keeper.ts";
import { type DrawSummary, LotteryState } from "../store/lottery_state.ts";
import { KV_FILE, LEDGER_FILE, WINNERS_FILE } from "../store/store.ts";

/** Where one agency stands. */
export interface AgencyStanding {
  /** The agency id. */
  readonly agency: number;
  /** Bets stored. */
  readonly stored: number;
  /** Bets its hello announced, or `null` before its first stored batch. */
  readonly total: number | null;
  /** It said it had sent everything. */
  readonly finished: boolean;
  /** Its winners, once the draw is made; else `null`. */
  readonly winners: number | null;
}

/** The whole storage directory at one moment. */
export interface StorageSnapshot {
  /** Every agency the ledger knows, and agencies 1 to `agencies`, in id order. */
  readonly agencies: AgencyStanding[];
  /** Bets stored across agencies. */
  readonly stored: number;
  /** Agencies counted as finished (the KV counter). */
  readonly finished: number;
  /** The draw, once made. */
  readonly draw: {
    readonly total: number;
    readonly digest: string;
    /** When the winners file was written (the draw's time). */
    readonly at: Date | null;
  } | null;
}

/** What `status` and `/metrics` read: a storage directory or the database. */
export interface StorageReader extends AsyncDisposable {
  /** Where every agency stands now (agencies 1 to `agencies` at least). */
  snapshot(agencies?: number): Promise<StorageSnapshot>;
}

/** Reads a storage directory without disturbing the central that runs on it. */
export class StorageView implements Disposable, StorageReader {
  readonly #dir: string;
  readonly #state: LotteryState;
  readonly #records = new Map<number, AgencyRecord>();
  readonly #streams = new Map<number, StreamIdentity>();
  #draw: DrawRecord | null = null;
  #applied = 0;

  private constructor(dir: string, state: LotteryState) {
    this.#dir = dir;
    this.#state = state;
  }

  /**
   * Opens the view of `dir`. Throws `Deno.errors.NotFound` when `dir` holds
   * no ledger or no KV file (it is not a central's storage directory, or no
   * central has started on it).
   */
  static async open(dir: string): Promise<StorageView> {
    for (const file of [LEDGER_FILE, KV_FILE]) {
      try {
        await Deno.stat(join(dir, file));
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
        throw new Deno.errors.NotFound(
          `Cannot read the storage directory: ${dir} has no ${file} (no central has started on it)`,
        );
      }
    }
    return new StorageView(dir, await LotteryState.open(join(dir, KV_FILE)));
  }

  /**
   * Where every agency stands now; `agencies` (the configured count) adds
   * the agencies that have sent nothing yet.
   */
  async snapshot(agencies = 0): Promise<StorageSnapshot> {
    await this.#readLedger();
    const { finished } = await this.#state.progress();
    const draw = await this.#summary();
    const ids = new Set([...this.#records.keys(), ...this.#streams.keys()]);
    for (let id = 1; id <= agencies; id++) ids.add(id);
    let stored = 0;
    const standings = [...ids].sort((a, b) => a - b).map((agency) => {
      const record = this.#records.get(agency);
      const bets = (record?.bets ?? 0) + (record?.singles ?? 0);
      stored += bets;
      return {
        agency,
        stored: bets,
        total: this.#streams.get(agency)?.total ?? null,
        finished: record?.finished ?? false,
        winners: draw === null ? null : draw.perAgency[agency] ?? 0,
      };
    });
    return {
      agencies: standings,
      stored,
      finished,
      draw: draw === null ? null : await this.#drawFacts(draw),
    };
  }

  /** The draw's summary, if the ledger says it is made; `null` before. */
  async #summary(): Promise<DrawSummary | null> {
    if (this.#draw === null) return null;
    const digest = Array.from(
      this.#draw.digest,
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    const { draw } = await this.#state.progress();
    if (draw?.digest === digest) return draw;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(join(this.#dir, WINNERS_FILE));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new Deno.errors.NotFound(
        `Cannot read the draw: the ledger records it, but neither ${KV_FILE} nor ${WINNERS_FILE} holds it (the central rebuilds them when it starts)`,
      );
    }
    const found = await verifiedDraw(bytes, digest);
    if (found === null) {
      throw new Error(
        `Cannot read the draw: ${WINNERS_FILE} does not match the digest the ledger committed (the central rebuilds it when it starts)`,
      );
    }
    return found.summary;
  }

  async #drawFacts(draw: DrawSummary) {
    let at: Date | null = null;
    try {
      at = (await Deno.stat(join(this.#dir, WINNERS_FILE))).mtime;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return { total: draw.total, digest: draw.digest, at };
  }

  /** Applies the ledger's whole records appended since the last read. */
  async #readLedger(): Promise<void> {
    using file = await Deno.open(join(this.#dir, LEDGER_FILE), { read: true });
    const size = (await file.stat()).size;
    if (size <= this.#applied) return;
    const bytes = new Uint8Array(size - this.#applied);
    await file.seek(this.#applied, Deno.SeekMode.Start);
    let at = 0;
    while (at < bytes.length) {
      const n = await file.read(bytes.subarray(at));
      if (n === null) break;
      at += n;
    }
    const { commits, streams, draws, length } = decodeLedgerRecords(
      bytes.subarray(0, at),
    );
    for (const commit of commits) {
      for (const [agency, record] of commit.changed) {
        this.#records.set(agency, record);
      }
    }
    for (const { agency, stream } of streams) {
      if (!this.#streams.has(agency)) this.#streams.set(agency, stream);
    }
    this.#draw ??= draws[0] ?? null;
    this.#applied += length;
  }

  /** Closes the KV handle. Idempotent. */
  [Symbol.dispose](): void {
    this.#state[Symbol.dispose]();
  }

  /** As {@linkcode StorageView[Symbol.dispose]}. */
  [Symbol.asyncDispose](): Promise<void> {
    this[Symbol.dispose]();
    return Promise.resolve();
  }
}
