/**
 * Opens the backend `DATABASE_URL` selects for the supervisor's recovery
 * and for each worker: the file store's handles in the storage directory
 * (unset), or a PostgreSQL client (set). `main` owns what this opens.
 *
 * @module
 */
import { join } from "node:path";
import type { ActionLog } from "../lib/log.ts";
import type { CentralConfig } from "./config.ts";
import { Lottery } from "./lottery.ts";
import type { StorageBackend } from "./store/backend.ts";
import { BETS_FILE } from "./store/bets_csv.ts";
import { Ledger } from "./store/ledger.ts";
import { ledgerKey } from "./store/ledger_mac.ts";
import { LotteryState } from "./store/lottery_state.ts";
import { makePrivate, openPrivateSync } from "./store/private_files.ts";
import { StorageLock } from "./store/storage_lock.ts";
import { KV_FILE, LEDGER_FILE, LOCK_FILE, Store } from "./store/store.ts";
import { PgClient } from "./postgres/pg_client.ts";
import { PgStore } from "./postgres/pg_store.ts";

/**
 * Brings the storage to a consistent, checked state before any worker
 * starts; see {@linkcode Lottery.recover}.
 */
export async function recoverStorage(
  config: CentralConfig,
  log: ActionLog,
): Promise<void> {
  const { storageDir, agencies, databaseUrl } = config;
  if (databaseUrl !== "") {
    await using client = new PgClient(databaseUrl, 1);
    const store = new PgStore({ client, log });
    await new Lottery({ store, agencies, log }).recover();
    return;
  }
  using state = await LotteryState.open(join(storageDir, KV_FILE));
  using lock = StorageLock.open(join(storageDir, LOCK_FILE));
  using ledger = Ledger.open(
    join(storageDir, LEDGER_FILE),
    ledgerKey(config.authSecret),
  );
  using betsFile = openPrivateSync(join(storageDir, BETS_FILE), {
    write: true,
    create: true,
  });
  await new Lottery({
    store: new Store({ lock, state, ledger, betsFile, storageDir, log }),
    agencies,
    log,
  }).recover();
  // SQLite gives its -wal and -shm files the KV file's mode.
  await makePrivate(storageDir);
}

/** Adds `resource` to the worker's stack, logging `<name>_closed` once it is closed. */
export type Own = <T extends Disposable>(name: string, resource: T) => T;

/**
 * A worker's backend: the file store's handles, each added to the
 * worker's stack through `own`, or a PostgreSQL client, closed when the
 * returned value is disposed (after the worker stopped serving).
 */
export async function openWorkerStorage(
  config: CentralConfig,
  log: ActionLog,
  own: Own,
): Promise<AsyncDisposable & { store: StorageBackend }> {
  if (config.databaseUrl !== "") {
    const client = new PgClient(config.databaseUrl);
    return {
      store: new PgStore({ client, log }),
      async [Symbol.asyncDispose]() {
        await client[Symbol.asyncDispose]();
        log.info("database_closed", "success");
      },
    };
  }
  const dir = config.storageDir;
  const lock = own("lockfile", StorageLock.open(join(dir, LOCK_FILE)));
  const state = own("kv", await LotteryState.open(join(dir, KV_FILE)));
  const ledger = own(
    "ledger",
    Ledger.open(join(dir, LEDGER_FILE), ledgerKey(config.authSecret)),
  );
  const betsFile = own(
    "bets_file",
    openPrivateSync(join(dir, BETS_FILE), { append: true, create: true }),
  );
  return {
    store: new Store({ lock, state, ledger, betsFile, storageDir: dir, log }),
    async [Symbol.asyncDispose]() {},
  };
}
