/**
 * The storage directory and its files are the central's alone: the
 * directory mode 0700 and every file 0600, whatever the umask (a mode given
 * to `open` or `mkdir` is masked by it, so each is set explicitly).
 *
 * @module
 */
import { join } from "node:path";

/** Mode of the storage directory. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file in it. */
export const PRIVATE_FILE_MODE = 0o600;

/** Opens (creating if asked) the file at `path` and makes it 0600. */
export function openPrivateSync(
  path: string,
  options: Deno.OpenOptions,
): Deno.FsFile {
  const file = Deno.openSync(path, options);
  try {
    Deno.chmodSync(path, PRIVATE_FILE_MODE);
  } catch (error) {
    file.close();
    throw error;
  }
  return file;
}

/**
 * The central's files in the storage directory: bets.csv, the ledger, the
 * winners file (and its temporary), and `central.*` (KV with its SQLite
 * journals, the lockfiles). Nothing else there is touched.
 */
const STORAGE_FILE =
  /^(bets\.csv|ledger\.bin|winners\.json(\.tmp)?|central\..+)$/;

/**
 * Creates the storage directory if needed and makes it 0700 and each of
 * the central's files in it 0600 (files an older version, SQLite or the
 * instance lock created with the umask's mode). Throws naming the path it
 * cannot change.
 */
export async function makePrivate(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await chmod(dir, PRIVATE_DIR_MODE);
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && STORAGE_FILE.test(entry.name)) {
      await chmod(join(dir, entry.name), PRIVATE_FILE_MODE);
    }
  }
}

async function chmod(path: string, mode: number): Promise<void> {
  try {
    await Deno.chmod(path, mode);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw new Error(
      `Cannot make ${path} private (mode ${mode.toString(8)}): ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
}
