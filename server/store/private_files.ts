/**
 * The storage directory and its files are the central's alone: the
 * directory a real one (no symlink) owned by the central's user, mode 0700,
 * and every file of the central's there a regular file of that user, 0600,
 * whatever the umask (a mode given to `open` or `mkdir` is masked by it,
 * so each is set explicitly). Once that holds, no other user (root aside)
 * can plant, swap or redirect a file in it.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { ownUid } from "./own_uid.ts";

/** Mode of the storage directory. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file in it. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Opens (creating if asked) the file at `path` and makes it 0600; a
 * symlink there is refused, never followed.
 */
export function openPrivateSync(
  path: string,
  options: Deno.OpenOptions,
): Deno.FsFile {
  refuseSymlink(path);
  const file = Deno.openSync(path, { ...options, mode: PRIVATE_FILE_MODE });
  try {
    Deno.chmodSync(path, PRIVATE_FILE_MODE);
  } catch (error) {
    file.close();
    throw error;
  }
  return file;
}

function refuseSymlink(path: string): void {
  try {
    if (!Deno.lstatSync(path).isSymlink) return;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  throw new Error(`Cannot open ${path}: it is a symlink, never followed`);
}

/**
 * Creates the file at `path` anew, 0600 (less under a strict umask): a
 * leftover there (a file or a planted symlink) is removed first, and the
 * creation is exclusive, so no link is ever followed.
 */
export function createPrivateSync(path: string): Deno.FsFile {
  try {
    Deno.lstatSync(path);
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return Deno.openSync(path, {
    write: true,
    createNew: true,
    mode: PRIVATE_FILE_MODE,
  });
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
 * instance lock created with the umask's mode). Throws, naming the path,
 * when the directory or one of those files is a symlink or belongs to
 * another user (nothing is changed through it), when a directory above it
 * lets another user swap what is below (see {@linkcode refuseOpenAncestors}),
 * or when it cannot be changed.
 */
export async function makePrivate(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const uid = ownUid();
  refuseForeign(dir, "storage directory", uid, true);
  refuseOpenAncestors(resolve(dir), uid);
  refuseOpenAncestors(Deno.realPathSync(dir), uid);
  await chmod(dir, PRIVATE_DIR_MODE);
  for await (const entry of Deno.readDir(dir)) {
    if (!STORAGE_FILE.test(entry.name)) continue;
    const path = join(dir, entry.name);
    refuseForeign(path, "file", uid, false);
    await chmod(path, PRIVATE_FILE_MODE);
  }
}

/**
 * Throws unless `path` is a real directory (`directory`) or regular file
 * owned by `uid`; a missing path passes.
 */
function refuseForeign(
  path: string,
  what: string,
  uid: number,
  directory: boolean,
): void {
  const info = lstatOrNull(path);
  if (info === null) return;
  const problem = info.isSymlink
    ? "is a symlink"
    : directory && !info.isDirectory
    ? "is not a directory"
    : !directory && !info.isFile
    ? "is not a regular file"
    : info.uid !== uid
    ? `belongs to user ${info.uid}, not to this central's user ${uid}`
    : null;
  if (problem !== null) {
    throw new Error(
      `Cannot start: the ${what} ${path} ${problem}; the storage must be the central's own (make it a directory of user ${uid}, with none of its files links)`,
    );
  }
}

/**
 * Throws unless every directory above `dir` (an absolute path), as written
 * and as resolved, belongs to root or `uid` and, if other users may write
 * it, is sticky (they cannot rename or remove what is not theirs): else
 * another user could swap the storage directory, or a file in it, for one
 * of theirs after the start's checks.
 */
function refuseOpenAncestors(dir: string, uid: number): void {
  for (let path = dirname(dir);; path = dirname(path)) {
    const info = Deno.lstatSync(path);
    const mode = info.mode ?? 0;
    const problem = info.uid !== uid && info.uid !== 0
      ? `belongs to user ${info.uid}`
      : !info.isSymlink && (mode & 0o022) !== 0 && (mode & 0o1000) === 0
      ? `is writable by other users and not sticky (mode ${
        (mode & 0o7777).toString(8)
      })`
      : null;
    if (problem !== null) {
      throw new Error(
        `Cannot start: ${path}, above the storage directory ${dir}, ${problem}: another user could swap the storage for theirs; put STORAGE_DIR under directories of root or user ${uid} only`,
      );
    }
    if (path === dirname(path)) return;
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

/** What `lstat` says of `path` (a link not followed), or `null` when nothing is there. */
export function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}
