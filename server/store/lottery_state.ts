/**
 * The central's shared state in Deno KV, one SQLite file in the storage
 * directory that every worker opens: the finished-agency counter and the
 * draw. (What each agency has stored lives in the ledger, behind the storage
 * lock; see `ledger.ts`.) Each change is one atomic operation.
 *
 * Keys:
 * - `["finished", id]` → `true` once agency `id` is counted as finished.
 * - `["finished"]` → how many agencies have finished.
 * - `["draw"]` → {@linkcode DrawSummary}, once the draw is made.
 *
 * The finished marks and count repeat what the ledger says (it is the
 * source of truth): the store checks them against it at start-up.
 *
 * @module
 */
import { Backoff } from "../../lib/backoff.ts";

/** The draw's result, as counts; the documents are in the winners file. */
export interface DrawSummary {
  /** Winners across all agencies. */
  readonly total: number;
  /** Winners per agency id (agencies with none included). */
  readonly perAgency: Readonly<Record<string, number>>;
  /** SHA-256 of the winners file's bytes, in hex: checked before it is served. */
  readonly digest: string;
}

/** Tries of a KV operation while the database is locked. */
const MAX_ATTEMPTS = 100;

/** Most KV mutations put in one atomic operation (Deno KV allows 1,000). */
const MAX_MUTATIONS = 500;

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
    const backoff = new Backoff(2, 50);
    for (;;) {
      try {
        return await operation();
      } catch (error) {
        if (backoff.failures + 1 >= MAX_ATTEMPTS || !isBusy(error)) throw error;
        await backoff.wait();
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
   * Counts agency `agency` as finished, once: a repeated call changes
   * nothing. Returns how many agencies have finished and whether this call
   * counted it.
   */
  async countFinished(
    agency: number,
  ): Promise<{ finished: number; first: boolean }> {
    for (;;) {
      const [mark, count] = await this.#retry(() =>
        this.#db.getMany<[true, number]>([["finished", agency], ["finished"]])
      );
      const finished = count.value ?? 0;
      if (mark.value !== null) return { finished, first: false };
      const result = await this.#retry(() =>
        this.#db.atomic()
          .check(mark, count)
          .set(["finished", agency], true)
          .set(["finished"], finished + 1)
          .commit()
      );
      if (result.ok) return { finished: finished + 1, first: true };
    }
  }

  /** The agencies marked as finished, and the finished count. */
  async finishedMarks(): Promise<{ agencies: number[]; count: number }> {
    const agencies = await this.#retry(async () => {
      const ids: number[] = [];
      for await (const entry of this.#db.list({ prefix: ["finished"] })) {
        const id = entry.key[1];
        if (typeof id === "number") ids.push(id);
      }
      return ids;
    });
    return { agencies, count: await this.finishedCount() };
  }

  /**
   * Marks each of `agencies` as finished and sets the count to how many
   * they are: the counter rebuilt from the ledger at start-up, with no
   * worker running. The count is set last, so a rebuild cut short leaves
   * one to redo.
   */
  async rebuildFinished(agencies: readonly number[]): Promise<void> {
    for (let at = 0; at < agencies.length; at += MAX_MUTATIONS) {
      const chunk = agencies.slice(at, at + MAX_MUTATIONS);
      await this.#retry(() => {
        const op = this.#db.atomic();
        for (const id of chunk) op.set(["finished", id], true);
        return op.commit();
      });
    }
    await this.#retry(() => this.#db.set(["finished"], agencies.length));
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
