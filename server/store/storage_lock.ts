/**
 * The storage lock, across the central's workers and within one.
 *
 * @module
 */
/**
 * Serialises every use of the storage functions across the central's worker
 * processes and, inside one worker, across its sessions.
 *
 * An exclusive `flock` on the lockfile keeps other processes out, but a
 * file lock belongs to the open file, not to the caller: two sessions of one
 * worker would both "hold" it. So a promise-chain mutex queues the worker's
 * own callers first, and only the head of the queue takes the file lock.
 * The file lock is taken asynchronously, so a worker waiting for it keeps
 * reading and checking its sessions' batches (they join its next group).
 */
export class StorageLock implements Disposable {
  #file: Deno.FsFile | null;
  #tail: Promise<void> = Promise.resolve();

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** Opens (creating if needed) the lockfile at `path`. */
  static open(path: string): StorageLock {
    return new StorageLock(
      Deno.openSync(path, { read: true, write: true, create: true }),
    );
  }

  /**
   * Runs `fn` while holding the lock: after every earlier caller in this
   * process, and while no other process holds the file lock.
   */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise((resolve) => (release = resolve));
    await previous;
    try {
      const file = this.#file;
      if (file === null) {
        throw new Deno.errors.BadResource(
          "Cannot take the storage lock: the lockfile is closed",
        );
      }
      await file.lock(true);
      try {
        return await fn();
      } finally {
        // Releasing never blocks: no round trip through the blocking pool.
        file.unlockSync();
      }
    } finally {
      release();
    }
  }

  /** Closes the lockfile. Idempotent. */
  [Symbol.dispose](): void {
    this.#file?.close();
    this.#file = null;
  }
}
