/**
 * A storm of peers that reset their connection (SO_LINGER 0), half of them
 * after part of a frame header, during a 5-agency load: no worker exits,
 * every agency gets its winners, every bet is stored exactly once, and the
 * resets cost a handful of log lines, not one each.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { join } from "node:path";
import {
  Central,
  field,
  loadingAgencies,
  tempDir,
  writeSampleFiles,
} from "./harness.ts";

const AGENCIES = 5;
const BETS = 2000;
const RESETS = 600;

/**
 * Connects to `port` and closes with a TCP reset at once, or after the
 * first 3 bytes of a batch header; resolves false if the connection failed.
 */
function resetPeer(port: number, midHeader: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      if (midHeader) socket.write(new Uint8Array([0x02, 0x00, 0x00]));
      socket.resetAndDestroy();
    });
    socket.once("close", () => resolve(!socket.errored));
    socket.once("error", () => {});
  });
}

Deno.test(`${RESETS} reset peers during a ${AGENCIES}-agency load end no worker and lose no bet`, async () => {
  await using dir = await tempDir("tp0-reset-storm-");
  const { rows: expectedRows, winners: expectedWinners } =
    await writeSampleFiles(dir.path, AGENCIES, BETS, 7);
  await using central = new Central(join(dir.path, "storage"), {
    AGENCIES: String(AGENCIES),
  });
  const port = await central.ready();
  const workers = central.workerPids();
  const agencies = loadingAgencies(port, dir.path, AGENCIES);
  try {
    await central.stdout.waitFor(/action: apuesta_recibida/, 30_000);
    // Waves of 50 at once, while the agencies send.
    let reset = 0;
    for (let sent = 0; sent < RESETS; sent += 50) {
      const wave = await Promise.all(
        Array.from({ length: 50 }, (_, i) => resetPeer(port, i % 2 === 0)),
      );
      reset += wave.filter(Boolean).length;
    }
    assert.deepEqual(central.stdout.matching(/worker_exited/), []);
    assert.ok(reset >= RESETS * 0.9, `${reset} of ${RESETS} peers reset`);

    for (const [i, program] of agencies.entries()) {
      assert.equal(await program.exit(120_000), 0, `agency ${i + 1} exit code`);
      const line = await program.stdout.waitFor(
        /action: consulta_ganadores \| result: success/,
      );
      assert.equal(
        Number(field(line, "cant_ganadores")),
        expectedWinners[i],
        `agency ${i + 1} winners`,
      );
    }
    assert.deepEqual(central.stdout.matching(/worker_exited/), []);
    assert.deepEqual(central.workerPids(), workers, "no worker restarted");
    const stored = (await Deno.readTextFile(
      join(central.storageDir, "bets.csv"),
    )).split("\n").filter((l) => l !== "");
    assert.equal(stored.length, expectedRows.length, "rows stored");
    assert.deepEqual(stored.sort(), expectedRows.sort(), "every bet once");
    // Rate-limited: per worker, one line of each kind, then at most one
    // summary per 5 s.
    const fails = central.stdout.matching(
      /action: (accept_connections|connection_lost) \| result: fail/,
    );
    assert.ok(
      fails.length <= 20,
      `${fails.length} fail lines:\n${fails.join("\n")}`,
    );
    central.kill("SIGTERM");
    assert.equal(await central.exit(30_000), 0);
  } finally {
    for (const program of agencies) await program[Symbol.asyncDispose]();
  }
});
