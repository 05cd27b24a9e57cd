/**
 * Writing all of a byte array to a connection.
 *
 * @module
 */
/** Anything with `Deno.Conn`'s `write`. */
export interface ByteSink {
  /** Writes some of `p`, returning how many bytes were written. */
  write(p: Uint8Array): Promise<number>;
}

/** Writes all of `bytes`, looping over short writes. */
export async function writeAll(
  sink: ByteSink,
  bytes: Uint8Array,
): Promise<void> {
  let rest = bytes;
  while (rest.length > 0) rest = rest.subarray(await sink.write(rest));
}
