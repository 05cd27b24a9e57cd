/**
 * Every way of starting or compiling the programs carries the flags they
 * need.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { AGENCY_V8_FLAGS } from "../agency/v8_flags.ts";
import { ROOT } from "../scripts/processes.ts";

const FLAG = `--v8-flags=${AGENCY_V8_FLAGS}`;

/** The tasks of deno.json. */
async function denoTasks(): Promise<Record<string, string>> {
  const { tasks } = JSON.parse(
    await Deno.readTextFile(join(ROOT, "deno.json")),
  ) as { tasks: Record<string, string> };
  return tasks;
}

/** The lines of `file` (from the project root) that match `pattern`. */
async function lines(file: string, pattern: RegExp): Promise<string[]> {
  const text = await Deno.readTextFile(join(ROOT, file));
  return text.split("\n").filter((line) => pattern.test(line));
}

Deno.test("every way of starting an agency gives it the agency's V8 flags", async () => {
  const tasks = await denoTasks();
  for (const task of ["agency", "compile:agency"]) {
    assert.ok(tasks[task]?.includes(FLAG), `deno.json task ${task}`);
  }
  const starts: [string, RegExp][] = [
    ["client/Dockerfile", /^RUN deno compile/],
    ["docker/agency.airgapped.Dockerfile", /^ENTRYPOINT/],
    ["scripts/build_host.sh", /^agency_flags=/],
  ];
  for (const [file, pattern] of starts) {
    const found = await lines(file, pattern);
    assert.equal(found.length, 1, `${file}: one line matching ${pattern}`);
    assert.ok(found[0]!.includes(FLAG), `${file}: ${found[0]}`);
  }
});

Deno.test("every way of compiling the central includes the draw's worker module", async () => {
  const include = "--include server/store/draw_worker.ts";
  const tasks = await denoTasks();
  assert.ok(tasks["compile:central"]?.includes(include), "compile:central");
  const dockerfile = await Deno.readTextFile(join(ROOT, "server/Dockerfile"));
  assert.ok(dockerfile.includes(include), "server/Dockerfile");
  const build = await Deno.readTextFile(join(ROOT, "scripts/build_host.sh"));
  assert.ok(build.includes(include), "scripts/build_host.sh");
  // The air-gapped image runs with --cached-only: its cache has the module.
  const images = await Deno.readTextFile(
    join(ROOT, "scripts/docker_images.sh"),
  );
  assert.match(images, /deno cache [^\n]*server\/store\/draw_worker\.ts/);
});
