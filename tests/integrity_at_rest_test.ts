/**
 * What the central stores is checked when it starts: bets.csv edited or
 * damaged while the central was stopped, or a damaged ledger record, stops
 * the start with one line naming the file (and for bets, the agency and
 * the bytes), and nothing acknowledged is cut; the storage directory is
 * the central's alone (0700, its files 0600, whatever the umask).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { crc32 } from "../lib/crc32.ts";
import { CentralProcess } from "../scripts/processes.ts";
import { loadTwoOfThree, refusedStart } from "./at_rest.ts";
import { tempDir } from "./harness.ts";

Deno.test("a same-size edit of a stored row is found at start-up: the file, the agency and the bytes are named", async () => {
  await using dir = await tempDir("tp0-at-rest-");
  const storage = join(dir.path, "storage");
  await loadTwoOfThree(dir.path, storage);
  const path = join(storage, "bets.csv");
  const text = await Deno.readTextFile(path);
  // Agency 2's last row: its number's last digit changed, same size.
  const at = text.lastIndexOf("\n2,", text.length - 2) + 1;
  const end = text.indexOf("\n", at);
  const digit = text[end - 1] === "7" ? "8" : "7";
  const edited = text.slice(0, end - 1) + digit + text.slice(end);
  assert.equal(edited.length, text.length);
  await Deno.writeTextFile(path, edited);
  const failed = await refusedStart(storage);
  assert.match(
    failed,
    /Cannot trust bets\.csv: agency 2's rows at bytes (\d+) to (\d+) differ from the \d+ rows committed there/,
  );
  const [, from, to] = /bytes (\d+) to (\d+)/.exec(failed)!;
  const offset = new TextEncoder().encode(text.slice(0, end)).length;
  assert.ok(Number(from) <= offset && offset < Number(to), failed);
  assert.equal(await Deno.readTextFile(path), edited, "nothing cut");
});

/**
 * What a writer of the storage without `AUTH_SECRET` can do: in each of
 * the ledger's commit records, `agency`'s digest recomputed as the SHA-256
 * of its rows in bets.csv, and the record's CRC-32 after it.
 */
async function recomputeDigests(storage: string, agency: number) {
  const ledgerPath = join(storage, "ledger.bin");
  const ledger = await Deno.readFile(ledgerPath);
  const bets = await Deno.readFile(join(storage, "bets.csv"));
  const view = new DataView(ledger.buffer);
  const prefix = `${agency},`;
  let committed = 0;
  for (let at = 0; at < ledger.length;) {
    const magic = new TextDecoder().decode(ledger.subarray(at, at + 3));
    if (magic !== "TLG") {
      at += magic === "TLS" ? 48 : 45;
      continue;
    }
    const n = view.getUint32(at + 4);
    const size = view.getFloat64(at + 8);
    const rows = new TextDecoder().decode(bets.subarray(committed, size))
      .split(/(?<=\n)/).filter((row) => row.startsWith(prefix)).join("");
    for (let e = at + 20; e < at + 20 + 53 * n; e += 53) {
      if (view.getUint32(e) === agency) {
        ledger.set(createHash("sha256").update(rows).digest(), e + 21);
      }
    }
    const end = at + 20 + 53 * n;
    view.setUint32(end, crc32(ledger.subarray(at, end)));
    committed = size;
    at = end + 4;
  }
  await Deno.writeFile(ledgerPath, ledger);
}

Deno.test("a row edited with the ledger's digests and checksums recomputed, without the secret, stops the start", async () => {
  await using dir = await tempDir("tp0-at-rest-");
  const storage = join(dir.path, "storage");
  await loadTwoOfThree(dir.path, storage);
  const path = join(storage, "bets.csv");
  const text = await Deno.readTextFile(path);
  const at = text.lastIndexOf("\n1,", text.length - 2) + 1;
  const end = text.indexOf("\n", at);
  const digit = text[end - 1] === "7" ? "8" : "7";
  await Deno.writeTextFile(
    path,
    text.slice(0, end - 1) + digit + text.slice(end),
  );
  await recomputeDigests(storage, 1);
  assert.match(
    await refusedStart(storage),
    /Cannot trust bets\.csv: agency 1's rows at bytes \d+ to \d+ differ/,
  );
});

Deno.test("a flipped byte anywhere in bets.csv stops the start", async () => {
  await using dir = await tempDir("tp0-at-rest-");
  const storage = join(dir.path, "storage");
  await loadTwoOfThree(dir.path, storage);
  const path = join(storage, "bets.csv");
  const original = await Deno.readFile(path);
  for (
    const at of [0, 37, Math.floor(original.length / 2), original.length - 1]
  ) {
    const flipped = original.slice();
    flipped[at]! ^= 0x04;
    await Deno.writeFile(path, flipped);
    const failed = await refusedStart(storage);
    assert.match(failed, /Cannot trust bets\.csv: .*(agency|byte)/, failed);
  }
});

Deno.test("a damaged last ledger record stops the start; no acknowledged row is cut", async () => {
  await using dir = await tempDir("tp0-at-rest-");
  const storage = join(dir.path, "storage");
  await loadTwoOfThree(dir.path, storage);
  const ledger = join(storage, "ledger.bin");
  const bytes = await Deno.readFile(ledger);
  const rows = await Deno.readFile(join(storage, "bets.csv"));
  // A byte inside the last record (agency 2's finish), not its last one.
  bytes[bytes.length - 10]! ^= 0x01;
  await Deno.writeFile(ledger, bytes);
  const failed = await refusedStart(storage);
  assert.match(
    failed,
    /Cannot read the ledger: the record at byte \d+ is damaged/,
  );
  assert.deepEqual(await Deno.readFile(join(storage, "bets.csv")), rows);
  assert.deepEqual(await Deno.readFile(ledger), bytes, "the ledger is kept");
});

Deno.test("the storage directory is 0700 and its files 0600, whatever the umask", async () => {
  await using dir = await tempDir("tp0-at-rest-");
  const storage = join(dir.path, "storage");
  {
    await using central = new CentralProcess(storage, {
      env: { AGENCIES: "1" },
      umask: "000",
    });
    await central.ready();
    central.kill("SIGTERM");
    assert.equal(await central.exit(), 0);
  }
  const modes = async () => {
    const found: Record<string, string> = {};
    for await (const entry of Deno.readDir(storage)) {
      const mode = (await Deno.stat(join(storage, entry.name))).mode! & 0o777;
      found[entry.name] = mode.toString(8);
    }
    return found;
  };
  assert.equal((await Deno.stat(storage)).mode! & 0o777, 0o700);
  const created = await modes();
  for (const name of ["bets.csv", "ledger.bin", "central.kv", "central.lock"]) {
    assert.equal(created[name], "600", JSON.stringify(created));
  }
  // What an older version left open is closed at the next start, and the
  // files made while loading (the KV's journal, winners.json) are 0600 too.
  await Deno.chmod(storage, 0o755);
  await Deno.chmod(join(storage, "bets.csv"), 0o644);
  await loadTwoOfThree(dir.path, storage);
  assert.equal((await Deno.stat(storage)).mode! & 0o777, 0o700);
  for (const [name, mode] of Object.entries(await modes())) {
    assert.equal(mode, "600", name);
  }
});

Deno.test("a central started with another AUTH_SECRET is refused, saying the secret may have changed", async () => {
  await using dir = await tempDir("tp0-at-rest-");
  const storage = join(dir.path, "storage");
  await loadTwoOfThree(dir.path, storage);
  const failed = await refusedStart(storage, {
    AUTH_SECRET: "another secret, of more than thirty-two characters",
  });
  assert.match(
    failed,
    /Cannot trust bets\.csv: .*if AUTH_SECRET changed since it was stored, start with the secret it was stored under/,
  );
});
