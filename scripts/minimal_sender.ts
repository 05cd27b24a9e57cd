/**
 * The sender of `deno task bench:minimal` (`minimal_ingest.ts`): one Deno
 * process per file, as an agency is, importing no more than its work needs
 * (a Deno start costs more with every module it loads).
 *
 *   deno run --allow-read --allow-net scripts/minimal_sender.ts FILE PORT on|off
 *
 * It checks every line (`on`) and hashes the file with SHA-256, then sends
 * it in frames of whole lines of at most 8 kB, a length before each, many
 * frames to a write. A file of at most 16 MB is read whole and hashed with
 * WebCrypto, as the agency does; a larger one is read twice, a megabyte at
 * a time, and hashed with `node:crypto`, loaded only then.
 *
 * @module
 */
import { currentDay } from "../lib/bet.ts";
import { canonicalBetLineEnd } from "../lib/bet_row.ts";
import { readLineChunks } from "../lib/line_chunks.ts";

/** The course's batch limit: a frame's lines, in bytes. */
export const FRAME = 8 * 1024;
const READ_WHOLE = 16 * 1024 * 1024;
const CHUNK = 1 << 20;

/** Checks every line of `bytes`; throws at the first that is not a bet. */
export function checkLines(bytes: Uint8Array, today: string): void {
  for (let start = 0; start < bytes.length;) {
    const last = canonicalBetLineEnd(bytes, start, bytes.length, today);
    if (last < 0 || bytes[last] !== 0x0a) {
      throw new SyntaxError(`Cannot ingest: not a bet line at byte ${start}`);
    }
    start = last + 1;
  }
}

/** `bytes` (whole lines) as frames of at most {@linkcode FRAME} bytes, back to back. */
function framed(bytes: Uint8Array): Uint8Array {
  const stops: number[] = [];
  for (let at = 0; at < bytes.length;) {
    const stop = bytes.length - at <= FRAME
      ? bytes.length
      : bytes.lastIndexOf(0x0a, at + FRAME - 1) + 1;
    if (stop <= at) throw new RangeError("Cannot frame a line over 8 kB");
    stops.push(stop);
    at = stop;
  }
  const out = new Uint8Array(bytes.length + 4 * stops.length);
  const view = new DataView(out.buffer);
  let at = 0;
  let o = 0;
  for (const stop of stops) {
    view.setUint32(o, stop - at);
    out.set(bytes.subarray(at, stop), o + 4);
    o += 4 + stop - at;
    at = stop;
  }
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  while (bytes.length > 0) bytes = bytes.subarray(await conn.write(bytes));
}

async function send(path: string, port: number, checks: boolean) {
  const today = currentDay();
  if ((await Deno.stat(path)).size <= READ_WHOLE) {
    const bytes = await Deno.readFile(path);
    if (checks) checkLines(bytes, today);
    await crypto.subtle.digest("SHA-256", bytes);
    using conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(conn, framed(bytes));
    return;
  }
  const chunks = async function* () {
    using file = await Deno.open(path);
    for await (const { bytes, end } of readLineChunks(file, CHUNK)) {
      yield bytes.subarray(0, end);
    }
  };
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  for await (const chunk of chunks()) {
    if (checks) checkLines(chunk, today);
    hash.update(chunk);
  }
  hash.digest();
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  for await (const chunk of chunks()) await writeAll(conn, framed(chunk));
}

if (import.meta.main) {
  const [path, port, mode, ...rest] = Deno.args;
  if (
    path === undefined || !/^\d+$/.test(port ?? "") ||
    (mode !== "on" && mode !== "off") || rest.length > 0
  ) {
    console.error("Cannot send: use FILE PORT on|off");
    Deno.exit(2);
  }
  await send(path, Number(port), mode === "on");
}
