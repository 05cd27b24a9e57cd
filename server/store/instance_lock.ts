/**
 * The claim of one central on its storage directory, and on its port.
 *
 * @module
 */

/** The file a central's supervisor locks for its lifetime, in the storage directory. */
export const INSTANCE_FILE = "central.instance";

/**
 * The lockfile of a central's port, in the system's temporary directory
 * `tmpDir`: taken before the port is probed and held while the central
 * runs, so two centrals started at once on one port cannot both pass the
 * probe before their workers bind it with `SO_REUSEPORT`.
 */
export function portLockPath(tmpDir: string, port: number): string {
  return `${tmpDir.replace(/\/+$/, "")}/tp0-central-${port}.lock`;
}

/**
 * An exclusive `flock` on a file, taken by the supervisor and held until it
 * exits (the kernel drops it when the process ends, even by `kill -9`): on
 * {@linkcode INSTANCE_FILE} before it touches the storage directory, so a
 * second central on the same directory is refused instead of writing beside
 * the first; and on its port's {@linkcode portLockPath}. The file holds the owner's pid, for the refusal's message. It is
 * another file than the workers' storage lock (`central.lock`), which they
 * take and release around every write, so the two never wait on each other.
 */
export class InstanceLock implements Disposable {
  #file: Deno.FsFile | null;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /**
   * Takes the lock at `path` without waiting. Throws
   * {@linkcode InUseError} (naming `what` it guards) if another process
   * holds it.
   */
  static acquire(
    path: string,
    what = "the storage directory",
  ): InstanceLock {
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    try {
      if (!file.tryLockSync(true)) {
        throw new InUseError(what, path, readPid(file));
      }
      file.truncateSync(0);
      const pid = new TextEncoder().encode(`${Deno.pid}\n`);
      for (let at = 0; at < pid.length;) at += file.writeSync(pid.subarray(at));
    } catch (error) {
      file.close();
      throw error;
    }
    return new InstanceLock(file);
  }

  /** Releases the lock. Idempotent. */
  [Symbol.dispose](): void {
    this.#file?.close();
    this.#file = null;
  }
}

/** Another central holds the storage directory, or the port. */
export class InUseError extends Error {
  /**
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
