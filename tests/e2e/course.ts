/**
 * The course-harness mode of `make e2e`: every scenario driven the way the
 * course's black-box harness (7574-sistemas-distribuidos/tp0-tests) drives a
 * repository, against the images `make docker-image` built.
 *
 *   deno run --allow-run --allow-read --allow-write --allow-env tests/e2e/course.ts [ej1 … ej8]
 *
 * The scratch copy gets the delivery branches from `make course-branches`.
 * Before every scenario: `git checkout .`, `git clean -fd` and `git switch
 * ejN`, the project's containers and network removed; then the config
 * files are overwritten with only the course's keys (never `mode:`: the
 * branch pins the stage), `bash generar-compose.sh docker-compose-dev.yaml
 * N` with no Deno on PATH, `compose up -d`, and the
 * merged `compose logs -f` read line by line, every line held to the
 * harness's parser (course_log.ts). Afterwards every line of every
 * container is parsed again, and the run ends with `compose stop` and
 * `compose down`.
 *
 * `git clean -fd` deletes untracked files, so it never runs in the user's
 * tree: the tree (tracked files and untracked ones git does not ignore,
 * uncommitted edits included) is copied into a scratch repository under
 * the system's temporary directory, and every scenario runs there.
 * Order is checked in the central's own log (one pipe), never by
 * waiting. Every wait has a deadline.
 *
 * The machinery is in course_harness.ts, the log checks in
 * course_log_checks.ts, the scenarios in course_echo.ts (ej1 … ej4) and
 * course_bets.ts (ej5 … ej8).
 */
import { join } from "node:path";
import { ej5, ej6, ej7, ej8 } from "./course_bets.ts";
import { ej1, ej2, ej3, ej4 } from "./course_echo.ts";
import {
  composeCommand,
  failed,
  type Harness,
  passed,
  reset,
  scratchCopy,
  withoutDeno,
} from "./course_harness.ts";

const SCENARIOS: Record<string, (h: Harness) => Promise<void>> = {
  ej1,
  ej2,
  ej3,
  ej4,
  ej5,
  ej6,
  ej7,
  ej8,
};

if (import.meta.main) {
  const names = Deno.args.length > 0 ? Deno.args : Object.keys(SCENARIOS);
  const unknown = names.filter((n) => !(n in SCENARIOS));
  if (unknown.length > 0) {
    console.error(
      `usage: course.ts [${Object.keys(SCENARIOS).join(" ")}] (unknown: ${
        unknown.join(", ")
      })`,
    );
    Deno.exit(2);
  }
  const started = Date.now();
  const repo = await scratchCopy();
  console.log(`course mode: scratch copy of the tree in ${repo}`);
  const h: Harness = {
    repo,
    compose: await composeCommand(),
    path: await withoutDeno(join(repo, "..", "path")),
  };
  try {
    for (const name of names) await SCENARIOS[name]!(h);
  } finally {
    await reset(h);
    if (!Deno.env.get("KEEP_WORK")) {
      await Deno.remove(join(repo, ".."), { recursive: true });
    }
  }
  console.log(
    `\ne2e course mode: ${passed} passed, ${failed} failed (${
      ((Date.now() - started) / 1000).toFixed(0)
    } s)`,
  );
  Deno.exit(failed === 0 ? 0 : 1);
}
