import { Bet } from "../lib/bet.ts";
import { readCsvRecords } from "../lib/csv.ts";
import type { WireBet } from "../protocol/messages.ts";

/** A line of the agency's CSV that is not a valid bet. */
export class BetFileError extends Error {
  /** The file. */
  readonly path: string;
  /** The line, counting from 1 (0 when the file itself cannot be opened). */
  readonly line: number;

  /**
   * @param path the file
   * @param line the line (0: the whole file)
   * @param problem what is wrong
   * @param options the underlying error
   */
  constructor(
    path: string,
    line: number,
    problem: string,
    options?: ErrorOptions,
  ) {
    super(
      line === 0
        ? `Cannot read bets from ${path}: ${problem}`
        : `Cannot read bets from ${path} line ${line}: ${problem}`,
      options,
    );
    this.name = "BetFileError";
    this.path = path;
    this.line = line;
  }
}

/**
 * Streams an agency's bets from its CSV (`first_name,last_name,document,
 * birthdate,number`, no header, LF or CRLF, UTF-8), validating each one as
 * the central will. Throws {@linkcode BetFileError} with the file and line
 * for a missing file, a malformed line or an invalid bet.
 */
export async function* readBetFile(
  path: string,
  agency: number,
): AsyncGenerator<WireBet> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw new BetFileError(
      path,
      0,
      `the file cannot be opened (${(error as Error).name})`,
      {
        cause: error,
      },
    );
  }
  using _file = file;
  let line = 0;
  try {
    for await (const record of readCsvRecords(file.readable)) {
      line = record.line;
      const { fields } = record;
      if (fields.length !== 5) {
        throw new BetFileError(
          path,
          line,
          `${fields.length} fields, expected 5 (first_name,last_name,document,birthdate,number)`,
        );
      }
      const [firstName, lastName, document, birthdate, number] = fields as [
        string,
        string,
        string,
        string,
        string,
      ];
      const bet = { firstName, lastName, document, birthdate, number };
      try {
        Bet.fromWire(agency, bet);
      } catch (error) {
        throw new BetFileError(
          path,
          line,
          (error as Error).message.replace(/^Cannot accept bet: /, ""),
          { cause: error },
        );
      }
      yield bet;
    }
  } catch (error) {
    if (error instanceof BetFileError) throw error;
    if (error instanceof SyntaxError) {
      throw new BetFileError(path, 0, error.message, { cause: error });
    }
    throw error;
  }
}

/**
 * Reads the whole file once, validating every line, and returns how many
 * bets it holds: the agency checks its data before sending any of it.
 */
export async function countBets(path: string, agency: number): Promise<number> {
  let count = 0;
  for await (const _ of readBetFile(path, agency)) count++;
  return count;
}
