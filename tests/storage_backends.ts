/**
 * The two storage backends as test fixtures for the contract suite: each
 * gives "centrals", every one with its own handles or database client on
 * the same storage, the way separate workers or central hosts share it.
 *
 * @module
 */
import { join } from "node:path";
import type { ActionLog } from "../lib/log.ts";
import type { StorageBackend } from "../server/store/backend.ts";
import { BETS_FILE } from "../server/store/bets_csv.ts";
import { Ledger } from "../server/store/ledger.ts";
import { ledgerKey } from "../server/store/ledger_mac.ts";
import { LotteryState } from "../server/store/lottery_state.ts";
import { StorageLock } from "../server/store/storage_lock.ts";
import { Store } from "../server/store/store.ts";
import { PgClient } from "../server/postgres/pg_client.ts";
import { PgStore } from "../server/postgres/pg_store.ts";
import { PgServer } from "../scripts/pg_cluster.ts";

/** One storage, fresh for one case, on which centrals are opened. */
export interface Storage extends AsyncDisposable {
  /** A central's backend on this storage, closed with the storage. */
  central(log: ActionLog): Promise<StorageBackend>;
}

/** A backend under test: makes a fresh storage per case. */
export interface BackendFixture extends AsyncDisposable {
  /** The backend's name in test names: `file` or `postgres`. */
  readonly name: string;
  /** A fresh, empty storage for one case. */
  fresh(): Promise<Storage>;
}

/** The file store: a temporary directory; each central opens its own handles. */
export function fileFixture(): BackendFixture {
  return {
    name: "file",
    async fresh() {
      const dir = await Deno.makeTempDir({ prefix: "tp0-contract-" });
      const handles = new DisposableStack();
      return {
        async central(log) {
          const lock = handles.use(StorageLock.open(join(dir, "central.lock")));
          const state = handles.use(
            await LotteryState.open(join(dir, "central.kv")),
          );
          const ledger = handles.use(
            Ledger.open(join(dir, "ledger.bin"), ledgerKey("a test secret")),
          );
          const betsFile = handles.use(
            await Deno.open(join(dir, BETS_FILE), {
              append: true,
              create: true,
            }),
          );
          return new Store({
            lock,
            state,
            ledger,
            betsFile,
            storageDir: dir,
            log,
          });
        },
        async [Symbol.asyncDispose]() {
          handles.dispose();
          await Deno.remove(dir, { recursive: true });
        },
      };
    },
    async [Symbol.asyncDispose]() {},
  };
}

/**
 * PostgreSQL: one throwaway cluster for the suite, a fresh database per
 * case; each central has its own client.
 */
export async function postgresFixture(): Promise<BackendFixture> {
  const server = await PgServer.primary();
  let cases = 0;
  return {
    name: "postgres",
    async fresh() {
      const name = `contract_${++cases}`;
      {
        await using admin = new PgClient(server.url, 1);
        await admin.run((sql) => sql.unsafe(`create database ${name}`));
      }
      const clients = new AsyncDisposableStack();
      const url = server.url.replace(/\/postgres$/, `/${name}`);
      return {
        central(log) {
          const client = clients.use(new PgClient(url));
          return Promise.resolve(new PgStore({ client, log }));
        },
        async [Symbol.asyncDispose]() {
          await clients.disposeAsync();
        },
      };
    },
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]();
    },
  };
}
