/**
 * The course's storage functions, re-created once and faithfully: every other
 * part of the central stores and loads bets through these and never touches
 * `bets.csv` itself. Like the originals they are not safe for concurrent use:
 * callers hold the storage lock (see `storage_lock.ts`).
 *
 * Rows are `agency,first_name,last_name,document,birthdate,number`, minimal
 * quoting, one LF-terminated line per bet.
 */
import { Bet, hasWon, LOTTERY_WINNER_NUMBER } from "../lib/bet.ts";
import { formatCsvRow, readCsvRecords } from "../lib/csv.ts";

export { Bet, hasWon, LOTTERY_WINNER_NUMBER };

/** The file the bets are stored in, inside the storage directory. */
export const BETS_FILE = "bets.csv";

const encoder = new TextEncoder();

/**
 * `store_bets`: appends one row per bet to the bets file open in `file`
 * (opened for appending) with a single write, and returns the number of
 * bytes written. It does not flush; the caller decides when to `syncData`.
 */
export function storeBets(file: Deno.FsFile, bets: readonly Bet[]): number {
  let text = "";
  for (const bet of bets) {
    text += formatCsvRow([
      bet.agency,
      bet.firstName,
      bet.lastName,
      bet.document,
      bet.birthdate,
      bet.number,
    ]) + "\n";
  }
  let bytes = encoder.encode(text);
  const written = bytes.length;
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
  return written;
}

/**
 * `load_bets`: yields the stored bets back in file order, streaming the file
 * (never all of it in memory). A missing file holds no bets. Throws
 * `SyntaxError` naming the line if a row is not a valid bet.
 */
export async function* loadBets(path: string): AsyncGenerator<Bet> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  using _file = file;
  for await (const { fields, line } of readCsvRecords(file.readable)) {
    if (fields.length !== 6) {
      throw new SyntaxError(
        `Cannot load bets: ${path} line ${line} has ${fields.length} fields, not 6`,
      );
    }
    const [agency, first, last, document, birthdate, number] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    try {
      yield new Bet(agency, first, last, document, birthdate, number);
    } catch (error) {
      throw new SyntaxError(
        `Cannot load bets: ${path} line ${line}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}
