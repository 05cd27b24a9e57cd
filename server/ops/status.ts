/**
 * `central status`: where every agency stands in a storage directory, and
 * the draw, as a table for an operator or JSON (`--json`) for a script. It
 * reads the directory through a {@linkcode StorageView}, or the database
 * (`DATABASE_URL`) through a {@linkcode PgStorageView}, so a running
 * central is not disturbed.
 *
 * @module
 */
import { PgStorageView } from "./pg_storage_view.ts";
import { type StorageSnapshot, StorageView } from "./storage_view.ts";

/**
 * Reads the database `databaseUrl` names, or else `storageDir`, and
 * returns what `central status` prints.
 */
export async function statusText(
  storageDir: string,
  databaseUrl: string,
  agencies: number,
  json: boolean,
): Promise<string> {
  let snapshot: StorageSnapshot;
  let storage = storageDir;
  if (databaseUrl !== "") {
    await using view = new PgStorageView(databaseUrl);
    snapshot = await view.snapshot(agencies);
    storage = "PostgreSQL (DATABASE_URL)";
  } else {
    using view = await StorageView.open(storageDir);
    snapshot = await view.snapshot(agencies);
  }
  return json
    ? JSON.stringify(statusJson(storage, snapshot)) + "\n"
    : statusTable(storage, snapshot);
}

/** The snapshot as `--json` prints it: dates in ISO 8601. */
function statusJson(storage: string, snapshot: StorageSnapshot) {
  const { draw } = snapshot;
  return {
    storage,
    agencies: snapshot.agencies,
    stored: snapshot.stored,
    finished: snapshot.finished,
    draw: draw === null
      ? null
      : { ...draw, at: draw.at?.toISOString() ?? null },
  };
}

/** The snapshot as a table per agency, then the draw. */
export function statusTable(
  storageDir: string,
  snapshot: StorageSnapshot,
): string {
  const rows = [
    ["agency", "stored", "of", "finished", "winners"],
    ...snapshot.agencies.map((a) => [
      String(a.agency),
      String(a.stored),
      a.total === null ? "?" : String(a.total),
      a.finished ? "yes" : "no",
      a.winners === null ? "-" : String(a.winners),
    ]),
  ];
  const widths = rows[0]!.map((_, column) =>
    Math.max(...rows.map((cells) => cells[column]!.length))
  );
  const table = rows.map((cells) =>
    cells.map((cell, i) =>
      i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)
    )
      .join("  ")
  );
  const { draw } = snapshot;
  return [
    `storage: ${storageDir}`,
    ...table,
    `bets stored: ${snapshot.stored}; agencies finished: ${snapshot.finished}`,
    draw === null
      ? "draw: not made"
      : `draw: made${
        draw.at === null ? "" : ` at ${draw.at.toISOString()}`
      }; ${draw.total} winners; digest ${draw.digest}`,
  ].join("\n") + "\n";
}
