/**
 * Reading a file in chunks that end on a line end.
 *
 * @module
 */
/** A run of whole lines read from a file: `bytes[0, end)`. */
export interface LineChunk {
  /** The read buffer; only `[0, end)` belongs to this chunk. */
  readonly bytes: Uint8Array;
  /** Where the chunk's last line ends (after its LF, or at end of file). */
  readonly end: number;
}

/**
 * Reads `file` about `size` bytes at a time and yields whole lines only:
 * each chunk ends after an LF, except the last one of the file, which ends
 * where the file does. A line longer than the buffer grows it. The buffer is
 * reused: a chunk is valid until the next one is asked for.
 */
export async function* readLineChunks(
  file: Deno.FsFile,
  size: number,
): AsyncGenerator<LineChunk> {
  let buffer = new Uint8Array(size);
  let filled = 0;
  for (let eof = false; !eof;) {
    if (filled === buffer.length) {
      const grown = new Uint8Array(buffer.length * 2);
      grown.set(buffer);
      buffer = grown;
    }
    const read = await file.read(buffer.subarray(filled));
    if (read === null) eof = true;
    else filled += read;
    const end = eof ? filled : buffer.lastIndexOf(0x0a, filled - 1) + 1;
    if (end === 0) continue;
    yield { bytes: buffer, end };
    buffer.copyWithin(0, end, filled);
    filled -= end;
  }
}
