/**
 * The stored state the at-rest tests start from, and a start that must be
 * refused.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { agency, Central, writeSampleFiles } from "./harness.ts";

/**
 * Agencies 1 and 2 of 3 load their files and finish (the draw waits for
 * agency 3; the two, waiting for it, are stopped), then a clean stop.
 */
export async function loadTwoOfThree(
  dir: string,
  storage: string,
): Promise<void> {
  await writeSampleFiles(dir, 2, 120, 7);
  await using central = new Central(storage, { AGENCIES: "3" });
  const port = await central.ready();
  for (const k of [1, 2]) {
    await using run = agency(k, port, {
      CLI_DATA_PATH: join(dir, `agency-${k}.csv`),
    });
    await central.stdout.waitFor(
      new RegExp(
        `action: agencia_finalizada \\| result: success \\| agencia: ${k} `,
      ),
    );
    run.kill("SIGKILL");
    await run.exit();
  }
  central.kill("SIGTERM");
  assert.equal(await central.exit(), 0);
}

/** Starts a central on `storage` that must refuse to start; returns its fail line. */
export async function refusedStart(
  storage: string,
  env: Record<string, string> = {},
): Promise<string> {
  await using central = new Central(storage, { AGENCIES: "3", ...env });
  assert.equal(await central.exit(), 1);
  assert.deepEqual(central.stdout.matching(/action: central_ready/), []);
  return await central.stdout.waitFor(/action: central \| result: fail/);
}
