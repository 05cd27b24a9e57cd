/**
 * Ledger records forged, moved or planted by whoever can write the storage
 * but does not hold `AUTH_SECRET` stop the start, and nothing of bets.csv
 * is cut for them: a commit record of no agency or of a size that is not
 * a whole number, a commit moved after later ones, a draw record planted
 * before the draw.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { crc32 } from "../lib/crc32.ts";
import { loadTwoOfThree, refusedStart } from "./at_rest.ts";
import { tempDir } from "./harness.ts";

/** The ledger's records, as byte ranges (commits, streams, draws). */
function records(ledger: Uint8Array): { magic: string; bytes: Uint8Array }[] {
  const view = new DataView(ledger.buffer, ledger.byteOffset);
  const found = [];
  for (let at = 0; at < ledger.length;) {
    const magic = new TextDecoder().decode(ledger.subarray(at, at + 4));
    const size = magic === "TLS1"
      ? 48
      : magic === "TLD2"
      ? 85
      : 24 + 53 * view.getUint32(at + 4);
    found.push({ magic, bytes: ledger.slice(at, at + size) });
    at += size;
  }
  return found;
}

/** `bytes` with the CRC-32 of what comes before each of `at` written there. */
function sealed(bytes: Uint8Array, ...at: number[]): Uint8Array {
  const view = new DataView(bytes.buffer);
  for (const end of at) view.setUint32(end, crc32(bytes.subarray(0, end)));
  return bytes;
}

/** A commit record of no agency saying bets.csv holds `size` bytes. */
function emptyCommit(size: number): Uint8Array {
  const bytes = new Uint8Array(24);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode("TLG3"));
  view.setFloat64(8, size);
  return sealed(bytes, 16, 20);
}

/** A commit record for agency 1 saying bets.csv holds `size` bytes (a MAC of zeros). */
function oneCommit(size: number): Uint8Array {
  const bytes = new Uint8Array(24 + 53);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode("TLG3"));
  view.setUint32(4, 1);
  view.setFloat64(8, size);
  view.setUint32(20, 1);
  view.setFloat64(24, 120);
  view.setUint8(40, 1);
  return sealed(bytes, 16, 73);
}

/** A draw record of 3 agencies over `size` bytes (a MAC of zeros). */
function drawRecord(size: number, digest: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(85);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode("TLD2"));
  view.setUint32(4, 3);
  view.setFloat64(8, size);
  bytes.set(digest, 16);
  view.setUint8(48, 1);
  return sealed(bytes, 81);
}

/** The forgeries, each from the ledger's bytes and bets.csv's size. */
const FORGERIES: Record<
  string,
  (ledger: Uint8Array, size: number) => Uint8Array
> = {
  "a commit of no agency, of size 0": (ledger) =>
    concat([ledger, emptyCommit(0)]),
  "a commit of no agency, of size NaN": (ledger) =>
    concat([ledger, emptyCommit(NaN)]),
  "a commit of size NaN": (ledger) => concat([ledger, oneCommit(NaN)]),
  "agency 1's last commit moved to the end": (ledger) => {
    const all = records(ledger);
    const last = all.findLastIndex((r) =>
      r.magic === "TLG3" && new DataView(r.bytes.buffer).getUint32(20) === 1
    );
    const moved = all.splice(last, 1);
    return concat([...all, ...moved].map((r) => r.bytes));
  },
  "a draw record planted before the draw": (ledger, size) =>
    concat([ledger, drawRecord(size, new Uint8Array(32).fill(7))]),
};

function concat(parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) bytes.set(part, (at += part.length) - part.length);
  return bytes;
}

/** A copy of the storage directory `from` at `to`, modes kept. */
async function copyStorage(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { mode: 0o700 });
  for await (const entry of Deno.readDir(from)) {
    await Deno.copyFile(join(from, entry.name), join(to, entry.name));
  }
}

Deno.test("ledger records forged, moved or planted without the secret stop the start; nothing is cut", async () => {
  await using dir = await tempDir("tp0-forged-");
  const base = join(dir.path, "base");
  await loadTwoOfThree(dir.path, base);
  const ledger = await Deno.readFile(join(base, "ledger.bin"));
  const bets = await Deno.readFile(join(base, "bets.csv"));
  assert.ok(bets.length > 0);
  for (const [i, [name, forge]] of Object.entries(FORGERIES).entries()) {
    const storage = join(dir.path, `forged-${i}`);
    await copyStorage(base, storage);
    await Deno.writeFile(
      join(storage, "ledger.bin"),
      forge(ledger, bets.length),
    );
    const failed = await refusedStart(storage);
    assert.match(
      failed,
      /Cannot read the ledger: .*(damaged|records moved or forged|does not hold under AUTH_SECRET)/,
      name,
    );
    assert.deepEqual(
      await Deno.readFile(join(storage, "bets.csv")),
      bets,
      `${name}: nothing of bets.csv cut`,
    );
  }
});

Deno.test("a start refused for a ledger emptied, zeroed or cut back (central.kv kept) cuts nothing", async () => {
  await using dir = await tempDir("tp0-forged-");
  const base = join(dir.path, "base");
  await loadTwoOfThree(dir.path, base);
  const ledger = await Deno.readFile(join(base, "ledger.bin"));
  const bets = await Deno.readFile(join(base, "bets.csv"));
  const all = records(ledger);
  const cuts: Record<string, Uint8Array> = {
    emptied: new Uint8Array(),
    zeroed: new Uint8Array(ledger.length),
    "cut back to its first records": concat(
      all.slice(0, 2).map((r) => r.bytes),
    ),
  };
  for (const [i, [name, bytes]] of Object.entries(cuts).entries()) {
    const storage = join(dir.path, `cut-${i}`);
    await copyStorage(base, storage);
    await Deno.writeFile(join(storage, "ledger.bin"), bytes);
    assert.match(
      await refusedStart(storage),
      /central\.kv counts agency \d as finished but ledger\.bin does not/,
      name,
    );
    assert.deepEqual(
      await Deno.readFile(join(storage, "bets.csv")),
      bets,
      `${name}: bets.csv as it was`,
    );
    assert.deepEqual(
      await Deno.readFile(join(storage, "ledger.bin")),
      bytes,
      `${name}: ledger.bin as it was`,
    );
  }
});

Deno.test("a start refused for a lost ledger.bin refuses again at the next start; bets.csv is kept", async () => {
  await using dir = await tempDir("tp0-forged-");
  const storage = join(dir.path, "storage");
  await loadTwoOfThree(dir.path, storage);
  const bets = await Deno.readFile(join(storage, "bets.csv"));
  await Deno.remove(join(storage, "ledger.bin"));
  for (const start of ["first", "second"]) {
    assert.match(
      await refusedStart(storage),
      /bets\.csv holds \d+ bytes but there is no ledger\.bin/,
      start,
    );
    assert.deepEqual(await Deno.readFile(join(storage, "bets.csv")), bets);
    await assert.rejects(
      Deno.lstat(join(storage, "ledger.bin")),
      Deno.errors.NotFound,
    );
  }
});
