/**
 * The store tests' scratch file: a path in a fresh temporary directory,
 * removed with everything in it once the test is done.
 *
 * @module
 */
import { join } from "node:path";

/**
 * Runs `fn` with the path of `name` (not created) in a fresh temporary
 * directory, and removes the directory afterwards, even when `fn` throws.
 */
export async function withTempPath(
  name: string,
  fn: (path: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tp0-store-" });
  try {
    await fn(join(dir, name));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
