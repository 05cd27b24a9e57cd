/**
 * The draw, kept: made once under the storage lock, its record in the
 * ledger (the commit point, which outlives the loss of the KV file), its
 * winners in the winners file checked against that record's digest, its
 * summary repeated in KV for the workers' cheap check, and its `sorteo`
 * line written exactly once in the system's life (see
 * {@linkcode DrawKeeper.make}).
 *
 * @module
 */
import { join } from "node:path";
import { cutToCommitted } from "./bets_csv.ts";
import type { DrawRecord } from "./ledger_record.ts";
import type { DrawSummary } from "./lottery_state.ts";
import { drawWinners } from "./parallel_draw.ts";
import { createPrivateSync } from "./private_files.ts";
import type { StorageHandles } from "./storage_handles.ts";

/** The file the draw's winning documents are kept in, per agency. */
export const WINNERS_FILE = "winners.json";
const WINNERS_TEMPORARY = `${WINNERS_FILE}.tmp`;

/** The draw, as kept for queries. */
export interface Draw {
  /** Its counts and the winners file's digest. */
  readonly summary: DrawSummary;
  /** The winning documents per agency id, every agency listed. */
  readonly winners: Readonly<Record<string, readonly string[]>>;
}

/**
 * Writes the draw's lines (`sorteo` and the winners per agency); `ms` is
 * how long making it took, or `null` when it is written late (its maker
 * died first). Called under the storage lock, once per draw.
 */
export type Announce = (draw: Draw, ms: number | null) => void;

/** What {@linkcode DrawKeeper.make} did. */
export interface DrawMade {
  /** The draw. */
  readonly draw: Draw;
  /** True if this call made it (false: it was made before). */
  readonly made: boolean;
  /** How long making it took, from the scan of bets.csv on. */
  readonly ms: number;
}

/** Makes, keeps and serves the draw; see the module comment. */
export class DrawKeeper {
  readonly #deps: StorageHandles;
  /**
   * The digest of the draw this process announced: if recording that it
   * did fails (a full disk), its later queries do not announce it again.
   */
  #announced: string | null = null;

  /**
   * A keeper of the draw in the storage of `deps`.
   *
   * @param deps the open handles it works with
   */
  constructor(deps: StorageHandles) {
    this.#deps = deps;
  }

  /**
   * Makes the draw of the `agencies` agencies unless the ledger holds one,
   * under the lock: scans the committed bets.csv, writes the winners file's
   * temporary, commits the draw's record to the ledger, renames the
   * temporary into place (a crash before leaves the draw to be made again,
   * one after to be rebuilt, see {@linkcode settle}), calls `announce`, records in
   * the ledger that it did, and then puts the summary in KV. A draw found
   * unannounced (its maker died between the commit and that record) is
   * announced then. The one window for a repeated line: a maker that dies
   * after writing it and before that record is flushed.
   */
  async make(agencies: number, announce: Announce): Promise<DrawMade> {
    const { lock, ledger } = this.#deps;
    return await lock.run(async () => {
      ledger.refresh();
      if (ledger.draw !== null) {
        return { draw: await this.settle(announce), made: false, ms: 0 };
      }
      const started = performance.now();
      const ids = Array.from({ length: agencies }, (_, i) => String(i + 1));
      const { draw, bytes } = await this.#scan(ids);
      // The winners file is renamed into place only once the draw's record
      // is committed: a winners file with no draw in the ledger is damage.
      await this.#writeTemporary(bytes);
      const record = { agencies, digest: fromHex(draw.summary.digest) };
      await ledger.commitDraw({ ...record, logged: false });
      await this.#publish();
      const ms = performance.now() - started;
      announce(draw, ms);
      this.#announced = draw.summary.digest;
      await ledger.commitDraw({ ...record, logged: true });
      await this.#deps.state.commitDraw(draw.summary);
      return { draw, made: true, ms };
    });
  }

  /**
   * The draw KV holds, its winners file checked against the digest first;
   * otherwise (a damaged file) as {@linkcode settle} gives it.
   */
  async load(summary: DrawSummary, announce: Announce): Promise<Draw> {
    return await this.#verified(summary.digest) ??
      await this.#deps.lock.run(() => {
        this.#deps.ledger.refresh();
        return this.settle(announce);
      });
  }

  /**
   * The draw the ledger holds (hold the lock, refreshed): its winners file
   * checked against the record's digest, or made again from bets.csv (and
   * refused if that does not match either); announced if its line was not
   * recorded as written; its summary put in KV if missing there.
   */
  async settle(announce: Announce): Promise<Draw> {
    const { ledger, state } = this.#deps;
    const record = ledger.draw;
    if (record === null) {
      throw new Error("Cannot serve the draw: the ledger holds none");
    }
    const digest = toHex(record.digest);
    const draw = await this.#verified(digest) ??
      await this.#repair(record, digest);
    if (!record.logged) {
      if (this.#announced !== digest) announce(draw, null);
      this.#announced = digest;
      await ledger.commitDraw({ ...record, logged: true });
    }
    await state.commitDraw(draw.summary);
    return draw;
  }

  /** The draw if the winners file's SHA-256 is `digest`, else `null`. */
  async #verified(digest: string): Promise<Draw | null> {
    const bytes = await this.#readWinnersFile();
    return bytes === null ? null : await verifiedDraw(bytes, digest);
  }

  /** Makes the winners file of the draw `record` again from bets.csv. */
  async #repair(record: DrawRecord, digest: string): Promise<Draw> {
    const { draw, bytes } = await this.#scan(agencyIds(record));
    if (draw.summary.digest !== digest) {
      throw new Error(
        `Cannot serve the draw: ${WINNERS_FILE} does not match the committed draw, and neither does a new scan of bets.csv`,
      );
    }
    await this.#writeWinnersFile(bytes);
    this.#deps.log.warning("winners_file_rebuilt", "success", {
      total: draw.summary.total,
    });
    return draw;
  }

  /**
   * Start-up (hold the lock, refreshed, bets.csv verified): the draw the
   * ledger records must be the draw of bets.csv, so a draw record and a
   * winners file changed to match each other are refused. One scan.
   */
  async check(): Promise<void> {
    const record = this.#deps.ledger.draw;
    if (record === null) return;
    const { draw } = await this.#scan(agencyIds(record));
    if (draw.summary.digest !== toHex(record.digest)) {
      throw new Error(
        `Cannot recover storage: the draw the ledger records (winners' SHA-256 ${
          toHex(record.digest)
        }) is not the draw of bets.csv (${draw.summary.digest}); restore the storage directory as it was, or move it away to start afresh`,
      );
    }
  }

  /**
   * Start-up, before anything is cut (hold the lock, refreshed): a draw
   * the ledger records must be of the committed size, with every one of
   * its agencies finished.
   */
  checkRecord(): void {
    const { ledger } = this.#deps;
    const record = ledger.draw;
    if (record === null) return;
    if (record.betsSize !== ledger.betsSize) {
      throw new Error(
        `Cannot recover storage: the ledger records a draw of ${record.betsSize} bytes of bets.csv, and ${ledger.betsSize} committed; restore the storage directory as it was, or move it away to start afresh`,
      );
    }
    const unfinished = agencyIds(record).find((id) =>
      !ledger.record(Number(id)).finished
    );
    if (unfinished !== undefined) {
      throw new Error(
        `Cannot recover storage: the ledger records a draw, but agency ${unfinished} never finished; restore the storage directory as it was, or move it away to start afresh`,
      );
    }
  }

  /** The draw from the committed bets.csv, for the agencies `ids`. Hold the lock. */
  async #scan(
    ids: readonly string[],
  ): Promise<{ draw: Draw; bytes: Uint8Array }> {
    const { ledger, betsFile } = this.#deps;
    const cut = cutToCommitted(betsFile, ledger.betsSize);
    if (!cut.ok) throw new Error(`Cannot make the draw: ${cut.problem}`);
    const winners: Record<string, string[]> = {};
    for (const id of ids) winners[id] = [];
    // Each agency appears once in the scan's map: its list is taken as it
    // is (an agency may have more winners than a call takes arguments).
    for (
      const [agency, documents] of await drawWinners(this.#path("bets.csv"))
    ) {
      winners[agency] = documents;
    }
    const bytes = encoder.encode(JSON.stringify(winners));
    return { draw: summarize(winners, await sha256(bytes)), bytes };
  }

  #path(name: string): string {
    return join(this.#deps.storageDir, name);
  }

  async #readWinnersFile(): Promise<Uint8Array | null> {
    try {
      return await Deno.readFile(this.#path(WINNERS_FILE));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
  }

  /**
   * True when a winners file is there (or anything in its place): with no
   * draw in the ledger, that is damage (see {@linkcode make}).
   */
  hasWinnersFile(): boolean {
    try {
      Deno.lstatSync(this.#path(WINNERS_FILE));
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }

  /** Writes the winners file whole or not at all: a flushed temporary, renamed. */
  async #writeWinnersFile(bytes: Uint8Array): Promise<void> {
    await this.#writeTemporary(bytes);
    await this.#publish();
  }

  /** Writes and flushes the winners file's temporary, created anew. */
  async #writeTemporary(bytes: Uint8Array): Promise<void> {
    using file = createPrivateSync(this.#path(WINNERS_TEMPORARY));
    let rest = bytes;
    while (rest.length > 0) rest = rest.subarray(await file.write(rest));
    await file.syncData();
  }

  /** Renames the temporary into place as the winners file. */
  async #publish(): Promise<void> {
    await Deno.rename(
      this.#path(WINNERS_TEMPORARY),
      this.#path(WINNERS_FILE),
    );
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The draw a winners file's `bytes` hold, if their SHA-256 is `digest` (in
 * hex); else `null`.
 */
export async function verifiedDraw(
  bytes: Uint8Array,
  digest: string,
): Promise<Draw | null> {
  if (await sha256(bytes) !== digest) return null;
  return summarize(JSON.parse(decoder.decode(bytes)), digest);
}

/** The draw of `winners`, whose file has SHA-256 `digest`. */
function summarize(
  winners: Record<string, string[]>,
  digest: string,
): Draw {
  const perAgency: Record<string, number> = {};
  let total = 0;
  for (const [id, documents] of Object.entries(winners)) {
    perAgency[id] = documents.length;
    total += documents.length;
  }
  return { summary: { total, perAgency, digest }, winners };
}

/** The ids of the agencies a draw was made for: "1" to its count. */
function agencyIds(record: DrawRecord): string[] {
  return Array.from({ length: record.agencies }, (_, i) => String(i + 1));
}

/** SHA-256 of `bytes`, in hex. */
async function sha256(bytes: Uint8Array): Promise<string> {
  return toHex(
    new Uint8Array(
      await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
    ),
  );
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
}
