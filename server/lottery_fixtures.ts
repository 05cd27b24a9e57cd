/**
 * Fixtures of the central's rule tests (`lottery_test.ts`,
 * `lottery_draw_test.ts`): a lottery over a real store in a temporary
 * directory, a proven peer, bets, and what the store holds.
 *
 * @module
 */
import { join } from "node:path";
import { Bet } from "../lib/bet.ts";
import type { ActionLog, Fields, Result } from "../lib/log.ts";
import { Lottery } from "./lottery.ts";
import { Store } from "./store/store.ts";
import type { Peer } from "./net/handlers.ts";
import { ResendRun } from "./net/resend_run.ts";
import { Pipeline } from "./outcomes.ts";
import { BETS_FILE } from "./store/bets_csv.ts";
import { Ledger } from "./store/ledger.ts";
import { ledgerKey } from "./store/ledger_mac.ts";
import { LotteryState } from "./store/lottery_state.ts";
import { StorageLock } from "./store/storage_lock.ts";

/** A log that records each line as `action result key=value…` in `lines`. */
export function recordingLog(lines: string[]): ActionLog {
  const at = (action: string, result: Result, fields: Fields = {}) =>
    lines.push(
      [action, result, ...Object.entries(fields).map(([k, v]) => `${k}=${v}`)]
        .join(" "),
    );
  return { debug: at, info: at, warning: at, error: at };
}

/** Bet `i` of `agency`, on `number` (by default `i`). */
export const bet = (agency: number, i: number, number = i): Bet =>
  new Bet(agency, "Ana", "Díaz", String(1000 + i), "1990-01-01", number);

/** A proven connection of agency 1 (a stream of 10 bets), logging to `log`. */
export function testPeer(log: string[]): Peer {
  return {
    ip: "127.0.0.1",
    agency: 1,
    total: 10,
    digest: new Uint8Array(32),
    pipeline: new Pipeline(),
    resends: new ResendRun(recordingLog(log), 1),
  };
}

/**
 * Runs `fn` with a lottery of `agencies` over a fresh store in a temporary
 * directory, removed afterwards.
 */
export async function withLottery(
  agencies: number,
  fn: (
    lottery: Lottery,
    dir: string,
    log: string[],
    /** Another lottery on the same storage: the other worker, its store first given to `spy`. */
    another: (spy?: (store: Store) => void) => Lottery,
  ) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tp0-lottery-unit-" });
  try {
    using lock = StorageLock.open(join(dir, "central.lock"));
    using state = await LotteryState.open(join(dir, "central.kv"));
    using ledger = Ledger.open(
      join(dir, "ledger.bin"),
      ledgerKey("a test secret"),
    );
    using betsFile = await Deno.open(join(dir, BETS_FILE), {
      append: true,
      create: true,
    });
    const lines: string[] = [];
    const make = (spy?: (store: Store) => void) => {
      const store = new Store({
        lock,
        state,
        ledger,
        betsFile,
        storageDir: dir,
        log: recordingLog(lines),
      });
      spy?.(store);
      return new Lottery({ store, agencies, log: recordingLog(lines) });
    };
    await fn(make(), dir, lines, make);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** SHA-256 of the rows of `agency` stored in `dir`'s bets.csv: its stream's digest. */
export async function storedDigest(
  dir: string,
  agency: number,
): Promise<Uint8Array> {
  const text = (await rows(dir)).filter((r) => r.startsWith(`${agency},`))
    .map((r) => r + "\n").join("");
  return new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
}

/** The rows stored in `dir`'s bets.csv. */
export const rows = async (dir: string): Promise<string[]> =>
  (await Deno.readTextFile(join(dir, BETS_FILE))).split("\n").filter((l) =>
    l !== ""
  );
