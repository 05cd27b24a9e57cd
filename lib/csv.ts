/**
 * CSV with minimal quoting: formatting a row, parsing a line, reading
 * records.
 *
 * @module
 */
/** One CSV record and the line of the file it starts on (1-based). */
export interface CsvRecord {
  /** The record's fields, unquoted. */
  readonly fields: string[];
  /** The line the record starts on, counting from 1. */
  readonly line: number;
}

/**
 * Reads CSV records from a byte stream, one chunk at a time (never the whole
 * file): RFC 4180 quoting (`"a, ""b"""`), LF or CRLF line ends, a UTF-8 BOM
 * skipped, blank lines skipped, a last line without a line end accepted.
 * Throws `SyntaxError` naming the line for invalid UTF-8, a stray quote or a
 * quoted field that never closes.
 */
export async function* readCsvRecords(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<CsvRecord> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const parser = new CsvParser();
  for await (const chunk of chunks) {
    yield* parser.push(decodeAt(decoder, chunk, true, parser.line));
  }
  yield* parser.push(decodeAt(decoder, undefined, false, parser.line));
  yield* parser.end();
}

function decodeAt(
  decoder: TextDecoder,
  chunk: Uint8Array | undefined,
  stream: boolean,
  line: number,
): string {
  try {
    return decoder.decode(chunk, { stream });
  } catch (error) {
    throw new SyntaxError(
      `Cannot read CSV near line ${line}: the file is not valid UTF-8`,
      { cause: error },
    );
  }
}

/** Incremental parser: text goes in, complete records come out. */
class CsvParser {
  #text = "";
  /** Line number of the first character of `#text`. */
  line = 1;

  *push(text: string): Generator<CsvRecord> {
    this.#text = this.#text === "" ? text : this.#text + text;
    yield* this.#drain(false);
  }

  *end(): Generator<CsvRecord> {
    yield* this.#drain(true);
  }

  *#drain(final: boolean): Generator<CsvRecord> {
    const text = this.#text;
    let pos = 0;
    while (pos < text.length) {
      const lf = text.indexOf("\n", pos);
      const lineEnd = lf === -1 ? text.length : lf;
      if (lf === -1 && !final) break;
      const quote = text.indexOf('"', pos);
      if (quote === -1 || quote > lineEnd) {
        // Fast path: a line with no quotes is its fields split on commas.
        const raw = text.slice(
          pos,
          lineEnd > pos && text.charCodeAt(lineEnd - 1) === 13
            ? lineEnd - 1
            : lineEnd,
        );
        if (raw !== "") yield { fields: raw.split(","), line: this.line };
        this.line++;
        pos = lineEnd + 1;
        continue;
      }
      const parsed = parseQuoted(text, pos, final, this.line);
      if (parsed === null) break;
      yield { fields: parsed.fields, line: this.line };
      this.line += parsed.lines;
      pos = parsed.next;
    }
    this.#text = pos >= text.length ? "" : text.slice(pos);
  }
}

/**
 * Parses one record that contains quotes, starting at `pos`. Returns `null`
 * when the record is not complete in `text` yet (and more may come).
 */
function parseQuoted(
  text: string,
  pos: number,
  final: boolean,
  line: number,
): { fields: string[]; next: number; lines: number } | null {
  const fields: string[] = [];
  let lines = 1;
  let i = pos;
  for (;;) {
    let field = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close === -1 || close + 1 >= text.length && !final) {
          if (!final) return null;
          throw new SyntaxError(
            `Cannot read CSV at line ${line}: a quoted field never closes`,
          );
        }
        const part = text.slice(i, close);
        lines += countLineFeeds(part);
        field += part;
        if (text[close + 1] === '"') {
          field += '"';
          i = close + 2;
        } else {
          i = close + 1;
          break;
        }
      }
    } else {
      let j = i;
      while (j < text.length && !",\r\n".includes(text[j]!)) {
        if (text[j] === '"') {
          throw new SyntaxError(
            `Cannot read CSV at line ${line}: a quote inside an unquoted field`,
          );
        }
        j++;
      }
      field = text.slice(i, j);
      i = j;
    }
    fields.push(field);
    const c = text[i];
    if (c === ",") {
      i++;
      continue;
    }
    if (c === "\r" && text[i + 1] === "\n") {
      return { fields, next: i + 2, lines };
    }
    if (c === "\n") return { fields, next: i + 1, lines };
    if (c === undefined || (c === "\r" && i + 1 === text.length)) {
      if (!final) return null;
      return { fields, next: text.length, lines };
    }
    throw new SyntaxError(
      `Cannot read CSV at line ${line}: unexpected character after a closing quote`,
    );
  }
}

function countLineFeeds(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/**
 * Formats fields as one CSV row with minimal quoting: a field is quoted only
 * if it holds a comma, a quote or a line break, and quotes inside are
 * doubled. No line end is added.
 */
export function formatCsvRow(fields: readonly (string | number)[]): string {
  return fields.map((value) => {
    const text = String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  }).join(",");
}

/**
 * Parses one complete CSV line (no line end) into its fields, with the same
 * quoting rules as {@linkcode readCsvRecords}. Throws `SyntaxError` for a
 * stray quote or a quoted field that never closes.
 */
export function parseCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const parsed = parseQuoted(line, 0, true, 1);
  if (parsed === null || parsed.next < line.length) {
    throw new SyntaxError(
      "Cannot read CSV line: a line break inside a quoted field",
    );
  }
  return parsed.fields;
}
