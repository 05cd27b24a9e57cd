/** The project's version, from deno.json, for `--version`. */
import project from "../deno.json" with { type: "json" };

/** The version of both programs (deno.json's `version`). */
export const VERSION: string = project.version;

/** The line `--version` prints, e.g. `central 0.1.0 (Deno 2.9.6)`. */
export function versionLine(program: string, deno: string): string {
  return `${program} ${VERSION} (Deno ${deno})`;
}
