/**
 * The keyless crowd of the attack on the central: 3,000 connections from
 * this host that send a hello and never prove, each reconnecting as soon
 * as it is closed, while the five course agencies load the course dataset.
 * The crowd lasts `CROWD_SECONDS` (20 by default, under `deno task test`;
 * 90, the trial, under `deno task test:faults`); the agencies must
 * take at most twice as long as without it.
 *
 *   CROWD_SECONDS=90 deno test -A tests/faults/keyless_crowd_test.ts
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  agency,
  Central,
  DATASET,
  field,
  Program,
  tempDir,
} from "../harness.ts";
import type { CrowdCount } from "./crowd.ts";

/** Winners of course agency K, at index K − 1. */
const WINNERS = [2, 3, 3, 2, 0];

/** The crowd of a trial: how many, for how long. */
interface CrowdPlan {
  readonly size: number;
  readonly seconds: number;
}

/**
 * Loads the course dataset with its five agencies against a fresh central
 * with default settings (and, with `plan`, once a crowd fills its door,
 * kept there for the plan's seconds); returns how long until the last
 * agency exited, in ms. Each must exit 0 with its winners within
 * `deadlineMs` of the central being ready (of the crowd's start), and none
 * may have run out of patience or attempts.
 */
async function loadDataset(
  dir: string,
  name: string,
  deadlineMs: number,
  plan?: CrowdPlan,
): Promise<{ ms: number; crowd: CrowdCount | null }> {
  // A listen backlog the crowd can fill: with config.ini's 5 the kernel
  // drops most of its SYNs, and the crowd throttles itself.
  await using central = new Central(join(dir, name), {
    SERVER_LISTEN_BACKLOG: "1024",
  });
  const port = await central.ready();
  const opened = performance.now();
  await using crowd = plan
    ? new Program("crowd", "tests/faults/crowd.ts", [
      String(port),
      String(plan.size),
      String(plan.seconds),
    ], {})
    : null;
  if (crowd) {
    // The agencies come once the crowd fills the door: it is told busy.
    await crowd.stdout.waitFor(/^crowd_busy$/, 30_000);
  }
  const started = performance.now();
  const agencies = WINNERS.map((_, i) =>
    agency(i + 1, port, {
      CLI_DATA_PATH: join(DATASET, `agency-${i + 1}.csv`),
    })
  );
  try {
    for (const [i, program] of agencies.entries()) {
      const left = Math.max(1, opened + deadlineMs - performance.now());
      assert.equal(
        await program.exit(left),
        0,
        `agency ${i + 1}: ${program.stdout.all.slice(-5).join("\n")}`,
      );
      const line = await program.stdout.waitFor(
        /action: consulta_ganadores \| result: success/,
      );
      assert.equal(Number(field(line, "cant_ganadores")), WINNERS[i]);
      assert.deepEqual(
        program.stdout.matching(/Cannot reach the central/),
        [],
      );
    }
  } finally {
    for (const program of agencies) await program[Symbol.asyncDispose]();
  }
  const ms = performance.now() - started;
  let count: CrowdCount | null = null;
  if (crowd && plan) {
    // The crowd goes on to its end; the central stays up through it.
    assert.equal(await crowd.exit(plan.seconds * 1_000 + 60_000), 0);
    count = JSON.parse(crowd.stdout.all.at(-1)!) as CrowdCount;
  }
  assert.deepEqual(central.stdout.matching(/action: worker_exited/), []);
  return { ms, crowd: count };
}

/**
 * The trial: the dataset loaded without a crowd (three times, for a steady
 * baseline: the median counts), then again while a crowd of `size` keyless
 * connections runs for `seconds`. Every agency must get in, load, and have
 * its winners while the crowd is still at the door, within twice the time
 * it took without it.
 */
async function keylessCrowdTrial(
  seconds: number,
  size: number,
): Promise<void> {
  await using dir = await tempDir("tp0-crowd-");
  const alone: number[] = [];
  for (const run of [1, 2, 3]) {
    alone.push((await loadDataset(dir.path, `alone-${run}`, 120_000)).ms);
  }
  const baseline = alone.sort((a, b) => a - b)[1]!;
  // Every agency must be done while the crowd is still there.
  const crowded = await loadDataset(dir.path, "crowded", seconds * 1_000, {
    size,
    seconds,
  });
  const count = crowded.crowd!;
  const ratio = crowded.ms / baseline;
  console.log(
    `keyless crowd of ${size} for ${seconds} s: the dataset loaded in ${
      alone.map(Math.round).join("/")
    } ms alone, ${Math.round(crowded.ms)} ms with the crowd (${
      ratio.toFixed(2)
    }x the median); the crowd opened ${count.connections} connections, ${count.busy} told busy`,
  );
  assert.ok(ratio <= 2, `${ratio.toFixed(2)}x the time without the crowd`);
}

const SECONDS = Number(Deno.env.get("CROWD_SECONDS") ?? "20");

Deno.test(`a keyless crowd of 3,000 for ${SECONDS} s: the 5 course agencies load and get 2/3/3/2/0 during it, within 2x the time`, async () => {
  await keylessCrowdTrial(SECONDS, 3_000);
});
