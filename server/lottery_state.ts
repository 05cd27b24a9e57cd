/**
 * The central's shared state in Deno KV, one SQLite file in the storage
 * directory that every worker opens. Each change is one atomic operation,
 * and the callers make them while holding the storage lock, so the checks
 * below guard against a bug or a stray process, not against each other.
 *
 * Keys:
 * - `["agency", id]` → {@linkcode AgencyRecord}: bets stored (the position
 *   in the agency's stream up to which everything is stored), finished.
 * - `["ledger"]` → bytes of bets.csv that are committed (acknowledged).
 * - `["finished"]` → how many agencies have finished.
 * - `["draw"]` → {@linkcode DrawSummary}, once the draw is made.
 */

/** What the central knows of one agency. */
export interface AgencyRecord {
  /** Batched bets stored: the agency's stream is stored up to this position. */
  readonly bets: number;
  /** Single bets of the bet stage stored (outside the stream). */
  readonly singles: number;
  /** The agency said it had sent everything. */
  readonly finished: boolean;
}

/** The draw's result, as counts; the documents are in the winners file. */
export interface DrawSummary {
  /** Winners across all agencies. */
  readonly total: number;
  /** Winners per agency id (agencies with none included). */
  readonly perAgency: Readonly<Record<string, number>>;
}

const EMPTY: AgencyRecord = { bets: 0, singles: 0, finished: false };

/** A consistent read of one agency and the ledger, for a later commit. */
export interface BatchSnapshot {
  /** The agency's record (zeros if it never sent anything). */
  readonly record: AgencyRecord;
  /** Committed bytes of bets.csv. */
  readonly ledgerSize: number;
  readonly agencyEntry: Deno.KvEntryMaybe<AgencyRecord>;
  readonly ledgerEntry: Deno.KvEntryMaybe<number>;
}

/** Typed access to the central's KV keys. */
export class LotteryState implements Disposable {
  #kv: Deno.Kv | null;

  private constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** Opens (creating if needed) the KV file at `path`. */
  static async open(path: string): Promise<LotteryState> {
    return new LotteryState(await Deno.openKv(path));
  }

  /**
   * Runs a KV operation, again after a short pause while SQLite says the
   * database is locked (another worker writing, or recovering the log after a
   * worker died). A refused operation changed nothing, so repeating it is safe.
   */
  async #retry<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 1;; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (attempt >= 100 || !isBusy(error)) throw error;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(attempt * 2, 50))
        );
      }
    }
  }

  get #db(): Deno.Kv {
    if (this.#kv === null) {
      throw new Deno.errors.BadResource("Cannot use KV: it is closed");
    }
    return this.#kv;
  }

  /** Reads an agency's record and the ledger size together. */
  async snapshot(agency: number): Promise<BatchSnapshot> {
    const [agencyEntry, ledgerEntry] = await this.#retry(() =>
      this.#db.getMany<[AgencyRecord, number]>([["agency", agency], ["ledger"]])
    );
    return {
      record: agencyEntry.value ?? EMPTY,
      ledgerSize: ledgerEntry.value ?? 0,
      agencyEntry,
      ledgerEntry,
    };
  }

  /**
   * Records stored bets — `count` more of the agency's stream, or single
   * bets when `single` — and the new committed size of bets.csv, in one
   * atomic commit. Returns `false` if either key changed since `snapshot`.
   */
  async commitBatch(
    agency: number,
    snapshot: BatchSnapshot,
    count: number,
    ledgerSize: number,
    single = false,
  ): Promise<boolean> {
    const { record } = snapshot;
    const result = await this.#retry(() =>
      this.#db.atomic()
        .check(snapshot.agencyEntry, snapshot.ledgerEntry)
        .set(["agency", agency], {
          ...record,
          bets: single ? record.bets : record.bets + count,
          singles: (record.singles ?? 0) + (single ? count : 0),
        })
        .set(["ledger"], ledgerSize)
        .commit()
    );
    return result.ok;
  }

  /**
   * Marks an agency finished and counts it, once: a repeated call changes
   * nothing. Returns the agency's record and how many agencies have finished.
   */
  async finish(
    agency: number,
  ): Promise<{ record: AgencyRecord; finished: number; first: boolean }> {
    for (;;) {
      const [agencyEntry, countEntry] = await this.#retry(() =>
        this.#db.getMany<[AgencyRecord, number]>([["agency", agency], [
          "finished",
        ]])
      );
      const record = agencyEntry.value ?? EMPTY;
      const count = countEntry.value ?? 0;
      if (record.finished) return { record, finished: count, first: false };
      const done = { ...record, finished: true };
      const result = await this.#retry(() =>
        this.#db.atomic()
          .check(agencyEntry, countEntry)
          .set(["agency", agency], done)
          .set(["finished"], count + 1)
          .commit()
      );
      if (result.ok) return { record: done, finished: count + 1, first: true };
    }
  }

  /** How many agencies have finished. */
  async finishedCount(): Promise<number> {
    return (await this.#retry(() => this.#db.get<number>(["finished"])))
      .value ?? 0;
  }

  /** Committed bytes of bets.csv. */
  async ledgerSize(): Promise<number> {
    return (await this.#retry(() => this.#db.get<number>(["ledger"]))).value ??
      0;
  }

  /** The draw's summary, or `null` before the draw. */
  async draw(): Promise<DrawSummary | null> {
    return (await this.#retry(() => this.#db.get<DrawSummary>(["draw"]))).value;
  }

  /**
   * Commits the draw's summary if no draw was committed before; returns
   * whether this call was the one that committed it.
   */
  async commitDraw(summary: DrawSummary): Promise<boolean> {
    const result = await this.#retry(() =>
      this.#db.atomic()
        .check({ key: ["draw"], versionstamp: null })
        .set(["draw"], summary)
        .commit()
    );
    return result.ok;
  }

  /** Closes the KV handle. Idempotent. */
  [Symbol.dispose](): void {
    this.#kv?.close();
    this.#kv = null;
  }
}

/** SQLite's "database is locked" (SQLITE_BUSY), as Deno KV reports it. */
function isBusy(error: unknown): boolean {
  return error instanceof Error &&
    /database is locked|SQLITE_BUSY/i.test(error.message);
}
