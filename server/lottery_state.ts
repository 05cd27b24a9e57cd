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

/** A consistent read of several agencies and the ledger, for a group commit. */
export interface GroupSnapshot {
  /** Each agency's record (zeros if it never sent anything). */
  readonly records: ReadonlyMap<number, AgencyRecord>;
  /** Committed bytes of bets.csv. */
  readonly ledgerSize: number;
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

  /**
   * Reads the records of several agencies and the ledger together (KV reads
   * at most 10 keys at a time, so larger sets go in parallel reads).
   */
  async snapshotMany(agencies: readonly number[]): Promise<GroupSnapshot> {
    const keys: Deno.KvKey[] = [
      ["ledger"],
      ...agencies.map((a) => ["agency", a]),
    ];
    const chunks: Deno.KvKey[][] = [];
    for (let i = 0; i < keys.length; i += 10) {
      chunks.push(keys.slice(i, i + 10));
    }
    const entries = (await Promise.all(
      chunks.map((chunk) =>
        this.#retry(() => this.#db.getMany<unknown[]>(chunk))
      ),
    )).flat();
    const ledgerEntry = entries[0] as Deno.KvEntryMaybe<number>;
    const records = new Map<number, AgencyRecord>();
    for (const [i, agency] of agencies.entries()) {
      const entry = entries[i + 1] as Deno.KvEntryMaybe<AgencyRecord>;
      records.set(agency, entry.value ?? EMPTY);
    }
    return { records, ledgerSize: ledgerEntry.value ?? 0, ledgerEntry };
  }

  /**
   * Records the new records of the agencies a group of batches changed and
   * the new committed size of bets.csv, in one atomic commit. Returns
   * `false` if the ledger changed since `snapshot` (someone wrote without
   * the storage lock).
   */
  async commitGroup(
    snapshot: GroupSnapshot,
    changed: ReadonlyMap<number, AgencyRecord>,
    ledgerSize: number,
  ): Promise<boolean> {
    const result = await this.#retry(() => {
      const operation = this.#db.atomic().check(snapshot.ledgerEntry);
      for (const [agency, record] of changed) {
        operation.set(["agency", agency], record);
      }
      return operation.set(["ledger"], ledgerSize).commit();
    });
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

  /** The draw (or `null`) and how many agencies have finished, in one read. */
  async progress(): Promise<{ draw: DrawSummary | null; finished: number }> {
    const [draw, finished] = await this.#retry(() =>
      this.#db.getMany<[DrawSummary, number]>([["draw"], ["finished"]])
    );
    return { draw: draw.value, finished: finished.value ?? 0 };
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
