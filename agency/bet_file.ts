/**
 * The agency's CSV: the checking pass (every bet valid, the stream's digest)
 * and the batches read from it for the central.
 *
 * @module
 */
import { currentDay } from "../lib/bet.ts";
import {
  canonicalBetLine,
  canonicalBetLineEnd,
  decodeLine,
} from "../lib/bet_row.ts";
import { readLineChunks } from "../lib/line_chunks.ts";
import { BATCH_ROWS_OFFSET, BatchBuilder } from "../protocol/batch_builder.ts";
import { sha256, StreamDigest } from "./stream_digest.ts";

/** A line of the agency's CSV that is not a valid bet. */
export class BetFileError extends Error {
  /** The file. */
  readonly path: string;
  /** The line, counting from 1 (0 when the file itself cannot be opened). */
  readonly line: number;

  /**
   * An error for one line of `path`, or for the whole file.
   *
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

/** Called with each bet line, in stored form: `bytes[start, end)`, no line end. */
export type BetLineSink = (
  bytes: Uint8Array,
  start: number,
  end: number,
) => void;

const LF = 0x0a;
const CR = 0x0d;
const CHUNK = 1 << 20;
const encoder = new TextEncoder();

/**
 * Reads an agency's CSV (`first_name,last_name,document,birthdate,number`,
 * no header, LF or CRLF, UTF-8, blank lines skipped) a megabyte at a time,
 * validates every bet as the central will, and hands each one to `sink` in
 * the form the central stores: lines already in that form straight from the
 * read buffer, the others (quoted names, leading zeros) rewritten. Yields the
 * number of bets so far after each megabyte. A birthdate after `today`
 * (`YYYY-MM-DD`, default {@linkcode currentDay}) is invalid. Throws
 * {@linkcode BetFileError} with the file and line for a missing file,
 * invalid UTF-8, or an invalid bet; `sink` has then seen the bets before it.
 */
export async function* scanBetFile(
  path: string,
  agency: number,
  sink: BetLineSink,
  today: string = currentDay(),
): AsyncGenerator<number> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw new BetFileError(
      path,
      0,
      `the file cannot be opened (${(error as Error).name})`,
      { cause: error },
    );
  }
  using _file = file;
  let line = 1;
  let bets = 0;
  let first = true;
  for await (
    const { bytes: buffer, end: complete } of readLineChunks(file, CHUNK)
  ) {
    let start = 0;
    if (first) {
      first = false;
      if (
        complete >= 3 && buffer[0] === 0xef && buffer[1] === 0xbb &&
        buffer[2] === 0xbf
      ) {
        start = 3;
      }
    }
    while (start < complete) {
      let end = canonicalBetLineEnd(buffer, start, complete, today);
      let next: number;
      if (end >= 0) {
        sink(buffer, start, end);
        bets++;
        next = end + (buffer[end] === CR ? 2 : 1);
      } else {
        end = buffer.indexOf(LF, start);
        if (end === -1 || end >= complete) end = complete;
        next = end + 1;
        if (end > start && buffer[end - 1] === CR) end--;
        if (end > start) {
          let canonical: Uint8Array;
          try {
            const text = decodeLine(buffer.subarray(start, end));
            canonical = encoder.encode(canonicalBetLine(text, agency, today));
          } catch (error) {
            throw new BetFileError(
              path,
              line,
              (error as Error).message.replace(/^Cannot accept bet: /, ""),
              { cause: error },
            );
          }
          sink(canonical, 0, canonical.length);
          bets++;
        }
      }
      line++;
      start = next;
    }
    yield bets;
  }
}

/** What the checking pass learns of a file: the stream the hello announces. */
export interface BetStream {
  /** Bets in the file. */
  readonly total: number;
  /** SHA-256 of the bets as the central stores them, in order. */
  readonly digest: Uint8Array;
}

/**
 * Checks the whole file and returns how many bets it holds and their
 * digest: the agency checks its data before sending any of it. `today` as
 * for {@linkcode scanBetFile}.
 */
export async function checkBetFile(
  path: string,
  agency: number,
  today: string = currentDay(),
): Promise<BetStream> {
  const digest = await StreamDigest.create(agency);
  let total = 0;
  for await (const sofar of scanBetFile(path, agency, digest.add, today)) {
    total = sofar;
  }
  return { total, digest: digest.digest() };
}

/** A batch frame ready to send, and which bets of the stream it holds. */
export interface BatchFrame {
  /** The encoded `batch` frame. */
  readonly frame: Uint8Array;
  /** Position of its first bet in the agency's stream (from 0). */
  readonly first: number;
  /** Bets in it. */
  readonly count: number;
}

/**
 * Packs bet lines into frames with a {@linkcode BatchBuilder}, numbering
 * them from 0, and hands each finished frame to `emit`.
 */
class FramePacker {
  readonly #builder: BatchBuilder;
  readonly #emit: (batch: BatchFrame) => void;
  #position = 0;

  constructor(
    agency: number,
    maxAmount: number,
    emit: (batch: BatchFrame) => void,
  ) {
    this.#builder = new BatchBuilder(agency, maxAmount);
    this.#emit = emit;
  }

  /** A {@linkcode BetLineSink}: adds the line, closing a full frame first. */
  readonly add: BetLineSink = (bytes, start, end) => {
    if (!this.#builder.tryAdd(bytes, start, end)) {
      this.flush();
      this.#builder.tryAdd(bytes, start, end);
    }
  };

  /** Emits the frame being built, if it holds any bet. */
  flush(): void {
    const count = this.#builder.count;
    if (count === 0) return;
    const first = this.#position;
    this.#emit({ frame: this.#builder.take(first), first, count });
    this.#position += count;
  }
}

/**
 * Streams the file as `batch` frames of at most `maxAmount` bets and 8 kB,
 * a megabyte of file at a time. `today` as for, and throws like,
 * {@linkcode scanBetFile}.
 */
export async function* readBatchFrames(
  path: string,
  agency: number,
  maxAmount: number,
  today: string = currentDay(),
): AsyncGenerator<BatchFrame> {
  let ready: BatchFrame[] = [];
  const packer = new FramePacker(agency, maxAmount, (b) => ready.push(b));
  for await (const _ of scanBetFile(path, agency, packer.add, today)) {
    yield* ready;
    ready = [];
  }
  packer.flush();
  yield* ready;
}

/**
 * Files up to this size are read once, their frames kept in memory (about
 * 1.1 times the file); larger ones are read twice so that memory stays flat.
 */
export const READ_ONCE_LIMIT = 16 * 1024 * 1024;

/** An agency's checked bets: how many, their digest, and their batch frames in order. */
export interface BetBatches extends BetStream {
  /** The file's `batch` frames, numbered from bet 0. */
  readonly batches: AsyncIterable<BatchFrame>;
}

/**
 * Checks the whole file, then gives its total, digest and batches: the
 * agency sends nothing of a file with a bad line. A file of at most `readOnceLimit` bytes is read
 * and checked once, its frames built on the way and kept; a larger one is
 * checked in a first pass and streamed again in a second. `today` as for
 * {@linkcode scanBetFile}. Throws
 * {@linkcode BetFileError} like {@linkcode scanBetFile}, before any batch is
 * given.
 */
export async function loadBetBatches(
  path: string,
  agency: number,
  maxAmount: number,
  readOnceLimit: number = READ_ONCE_LIMIT,
  today: string = currentDay(),
): Promise<BetBatches> {
  // A file that cannot be stat'ed takes the streaming path, whose open
  // reports why with the file's name.
  const size = await Deno.stat(path).then(({ size }) => size, () => Infinity);
  if (size > readOnceLimit) {
    const stream = await checkBetFile(path, agency, today);
    return {
      ...stream,
      batches: readBatchFrames(path, agency, maxAmount, today),
    };
  }
  const frames: (BatchFrame | null)[] = [];
  const packer = new FramePacker(agency, maxAmount, (b) => frames.push(b));
  let total = 0;
  for await (const sofar of scanBetFile(path, agency, packer.add, today)) {
    total = sofar;
  }
  packer.flush();
  // The frames hold the stored rows already: hash them, not the lines again.
  const digest = await sha256(
    frames.map((batch) => batch!.frame.subarray(BATCH_ROWS_OFFSET)),
  );
  return { total, digest, batches: drain(frames) };
}

/** Yields the frames in order, letting go of each once it is taken. */
async function* drain(
  frames: (BatchFrame | null)[],
): AsyncGenerator<BatchFrame> {
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i]!;
    frames[i] = null;
    yield frame;
  }
}
