/**
 * The claim of one central on its storage directory, and on its port.
 *
 * @module
 */
import { lstatOrNull } from "./private_files.ts";

/** The file a central's supervisor locks for its lifetime, in the storage directory. */
export const INSTANCE_FILE = "central.instance";

/**
 * The lockfile of a central's port, in the user's private runtime
 * directory `dir` (see `runtime_dir.ts`): taken before the port is probed
 * and held while the central runs, so two centrals started at once on one
 * port cannot both pass the probe before their workers bind it with
 * `SO_REUSEPORT`. It is removed when the central exits.
 */
export function portLockPath(dir: string, port: number): string {
  return `${dir.replace(/\/+$/, "")}/central-${port}.lock`;
}

/**
 * An exclusive `flock` on a file, taken by the supervisor and held until it
 * exits (the kernel drops it when the process ends, even by `kill -9`): on
 * {@linkcode INSTANCE_FILE} before it touches the storage directory, so a
 * second central on the same directory is refused instead of writing beside
 * the first; and on its port's {@linkcode portLockPath}, which is removed
 * on release. The file holds the owner's pid, for the refusal's message. It
 * is another file than the workers' storage lock (`central.lock`), which
 * they take and release around every write, so the two never wait on each
 * other. A symlink or anything but a regular file at the path is refused,
 * never followed.
 */
export class InstanceLock implements Disposable {
  #file: Deno.FsFile | null;
  readonly #path: string;
  readonly #remove: boolean;

  private constructor(file: Deno.FsFile, path: string, remove: boolean) {
    this.#file = file;
    this.#path = path;
    this.#remove = remove;
  }

  /**
   * Takes the lock at `path` without waiting. Throws
   * {@linkcode InUseError} (naming `what` it guards) if another process
   * holds it, and an `Error` if the path is a symlink or not a regular
   * file. With `remove`, the release deletes the file.
   */
  static acquire(
    path: string,
    what = "the storage directory",
    remove = false,
  ): InstanceLock {
    refuseNonFile(path);
    // 0600 whatever the umask (a mode only loses bits to it).
    const file = Deno.openSync(path, {
      read: true,
      write: true,
      create: true,
      mode: 0o600,
    });
    try {
      if (!file.tryLockSync(true)) {
        throw new InUseError(what, path, readPid(file));
      }
      // The file may have been swapped (a symlink put in its place) or
      // removed by its last holder between the check and the lock.
      if (!samePlace(file, path)) {
        throw new InUseError(what, path, null);
      }
      file.truncateSync(0);
      const pid = new TextEncoder().encode(`${Deno.pid}\n`);
      for (let at = 0; at < pid.length;) at += file.writeSync(pid.subarray(at));
    } catch (error) {
      file.close();
      throw error;
    }
    return new InstanceLock(file, path, remove);
  }

  /** Releases the lock (removing the file, if asked to). Idempotent. */
  [Symbol.dispose](): void {
    const file = this.#file;
    if (file === null) return;
    this.#file = null;
    // Removed while still locked, so no one locks the file being removed.
    if (this.#remove && samePlace(file, this.#path)) {
      Deno.removeSync(this.#path);
    }
    file.close();
  }
}

/** Throws unless `path` is missing or a regular file (not a symlink). */
function refuseNonFile(path: string): void {
  const info = lstatOrNull(path);
  if (info === null) return;
  if (!info.isFile || info.isSymlink) {
    throw new Error(
      `Cannot start: ${path} is ${
        info.isSymlink ? "a symlink" : "not a regular file"
      }; a lockfile is never followed (remove it)`,
    );
  }
}

/** True when `path` is still the regular file `file` has open (no symlink). */
function samePlace(file: Deno.FsFile, path: string): boolean {
  let at: Deno.FileInfo;
  try {
    at = Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
  const open = file.statSync();
  return at.isFile && at.ino === open.ino && at.dev === open.dev;
}

/** Another central holds the storage directory, or the port. */
export class InUseError extends Error {
  /**
   * An error naming what is in use and who holds it.
   *
   * @param what what the lock guards (`the storage directory`, `port N`)
   * @param path the lockfile
   * @param pid the holder's pid, as it wrote it, or `null`
   */
  constructor(what: string, path: string, pid: number | null) {
    super(
      `Cannot start: ${what} is in use by another central (${
        pid === null ? "its pid unknown" : `pid ${pid}`
      }; it holds ${path})`,
    );
    this.name = "InUseError";
  }
}

function readPid(file: Deno.FsFile): number | null {
  const bytes = new Uint8Array(32);
  file.seekSync(0, Deno.SeekMode.Start);
  const n = file.readSync(bytes) ?? 0;
  const pid = Number.parseInt(new TextDecoder().decode(bytes.subarray(0, n)));
  return Number.isInteger(pid) ? pid : null;
}
