/**
 * The private directory where the central keeps its port's lockfile: no
 * other user can write there, so none can hold, plant or redirect it.
 *
 * @module
 */
import { ownUid } from "./own_uid.ts";
import { lstatOrNull } from "./private_files.ts";

/** Where a {@linkcode runtimeDir} is looked for: the environment's say. */
export interface RuntimeDirEnv {
  /** The user's runtime directory (systemd's, 0700), if set. */
  readonly XDG_RUNTIME_DIR?: string;
  /** A temporary directory chosen for the central, if set. */
  readonly TMPDIR?: string;
  /** The user's home directory. */
  readonly HOME?: string;
}

/**
 * The user's private runtime directory: `XDG_RUNTIME_DIR` when set; else
 * `TMPDIR/tp0-central-UID` when `TMPDIR` is a directory of the user's own
 * that no one else can write; else, out of other users' reach,
 * `/run/tp0-central` for root or `HOME/.tp0-central` for another user (a
 * directory of their own), and `/tmp/tp0-central-UID` only when neither is
 * there (another user can make that name first). Made 0700 if
 * missing; it must be a real directory (not a symlink) owned by this user
 * that no one else can write, otherwise it throws, saying what is wrong,
 * and the central does not start. The directory is per user, not per
 * port: it is left in place, empty, when the central exits.
 */
export function runtimeDir(env: RuntimeDirEnv): string {
  const uid = ownUid();
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg !== undefined && xdg !== "") return checkPrivate(xdg, uid);
  const tmp = env.TMPDIR ? trimmed(env.TMPDIR) : null;
  if (tmp !== null && isOwnDir(tmp, uid)) {
    return madePrivate(`${tmp}/tp0-central-${uid}`, uid);
  }
  const base = uid === 0 ? "/run" : env.HOME ? trimmed(env.HOME) : null;
  if (base !== null && isOwnDir(base, uid)) {
    const dir = uid === 0 ? `${base}/tp0-central` : `${base}/.tp0-central`;
    try {
      return madePrivate(dir, uid);
    } catch (error) {
      // A home this user may not write (a read-only one): the last resort.
      if (!(error instanceof Deno.errors.PermissionDenied)) throw error;
    }
  }
  return madePrivate(`/tmp/tp0-central-${uid}`, uid);
}

function trimmed(dir: string): string {
  return dir.replace(/\/+$/, "") || "/";
}

/** Whether `dir` is a real directory of `uid` no one else can write. */
function isOwnDir(dir: string, uid: number): boolean {
  const info = lstatOrNull(dir);
  if (info === null) return false;
  return info.isDirectory && info.uid === uid &&
    ((info.mode ?? 0o777) & 0o022) === 0;
}

function madePrivate(dir: string, uid: number): string {
  try {
    Deno.mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  return checkPrivate(dir, uid);
}

function checkPrivate(dir: string, uid: number): string {
  const info = Deno.lstatSync(dir);
  const mode = info.mode ?? 0;
  const problem = info.isSymlink
    ? "is a symlink"
    : !info.isDirectory
    ? "is not a directory"
    : info.uid !== uid
    ? `belongs to user ${info.uid}, not ${uid}`
    : (mode & 0o022) !== 0
    ? `is writable by other users (mode ${(mode & 0o777).toString(8)})`
    : null;
  if (problem !== null) {
    throw new Error(
      `Cannot start: the runtime directory ${dir} ${problem}; remove it, or set XDG_RUNTIME_DIR or TMPDIR to a directory only this user can write`,
    );
  }
  return dir;
}
