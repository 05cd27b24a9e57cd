/**
 * The open handles of the storage directory that the store and its parts
 * work with; `main` opens and closes them.
 *
 * @module
 */
import type { ActionLog } from "../../lib/log.ts";
import type { Ledger } from "./ledger.ts";
import type { LotteryState } from "./lottery_state.ts";
import type { StorageLock } from "./storage_lock.ts";

/** The open handles a store works with. */
export interface StorageHandles {
  /** Serialises storage across workers and sessions. */
  readonly lock: StorageLock;
  /** The finished-agency counter and the draw's summary, in KV. */
  readonly state: LotteryState;
  /** What each agency has stored, and the draw; read and written under the lock. */
  readonly ledger: Ledger;
  /** bets.csv, open for appending. */
  readonly betsFile: Deno.FsFile;
  /** Where bets.csv and the winners file live. */
  readonly storageDir: string;
  /** Where `storage_recovered` and a repaired file's line go. */
  readonly log: ActionLog;
}
