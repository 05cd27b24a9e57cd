/**
 * The central's operator commands, `central health` and `central status`,
 * run with the central's own configuration (flags, environment,
 * config.ini) so they find its address and its storage directory.
 *
 * @module
 */
import type { CentralConfig } from "../config.ts";
import { probeAddress, probeHealth } from "./health.ts";
import { statusText } from "./status.ts";

/**
 * Runs `tool` and returns its exit code: `health` 0 when the central
 * serves agencies, else 1 with one line on stderr; `status` prints where
 * every agency stands (JSON with `json`), 1 when the storage directory or
 * the database cannot be read.
 */
export async function runTool(
  tool: "health" | "status",
  config: CentralConfig,
  json: boolean,
): Promise<number> {
  const out = new TextEncoder();
  const fail = (message: string) => {
    Deno.stderr.writeSync(out.encode(message + "\n"));
    return 1;
  };
  if (tool === "health") {
    if (config.port === 0) {
      return fail(
        "Cannot check health: SERVER_PORT is 0 (a central started so picks its own port; give the port)",
      );
    }
    const health = await probeHealth(
      probeAddress(config.listenIp),
      config.port,
    );
    if (!health.healthy) return fail(health.reason);
    Deno.stdout.writeSync(out.encode("healthy\n"));
    return 0;
  }
  try {
    const text = await statusText(
      config.storageDir,
      config.databaseUrl,
      config.agencies,
      json,
    );
    Deno.stdout.writeSync(out.encode(text));
    return 0;
  } catch (error) {
    return fail((error as Error).message);
  }
}
