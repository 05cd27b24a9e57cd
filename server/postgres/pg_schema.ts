/**
 * The tables of the PostgreSQL store, made once by whichever central
 * starts first (under an advisory lock: `CREATE … IF NOT EXISTS` races).
 *
 * - `agencies`: per agency, the stream its first stored bets announced
 *   (`total`, `digest`), how many of its bets are stored, whether it
 *   finished: the ledger's record.
 * - `bets`: each stored row, keyed by (agency, position) so that no bet is
 *   ever stored twice, in the stored form (`agency,first_name,…,number`).
 * - `draw`: at most one row, the draw: its winners file's text and digest,
 *   and whether its `sorteo` line was logged.
 *
 * @module
 */
import type { Sql } from "./pg_client.ts";

/** The advisory lock keys of the store. */
export const LOCKS = { schema: 210_001, draw: 210_002 } as const;

const DDL = `
create table if not exists agencies (
  id integer primary key,
  total bigint,
  digest bytea,
  bets bigint not null default 0,
  finished boolean not null default false
);
create table if not exists bets (
  agency integer not null,
  position bigint not null,
  row text not null,
  primary key (agency, position)
);
create table if not exists draw (
  id integer primary key check (id = 1),
  agencies integer not null,
  digest text not null,
  winners text not null,
  summary jsonb not null,
  logged boolean not null
);
`;

/** Makes the tables unless they exist. */
export async function ensureSchema(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCKS.schema})`;
    await tx.unsafe(DDL);
  });
}
