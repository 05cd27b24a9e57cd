/**
 * This process's user id, learned without extra permissions.
 *
 * @module
 */

/** Probe files tried at most before giving up (a name taken is tried anew). */
const ATTEMPTS = 8;

/**
 * This process's user id, without the `sys` permission `Deno.uid` needs:
 * the owner of a new file it creates (never one already there) in the
 * temporary directory, read from the open file itself, so another user who
 * can write there may remove or swap the name but not change the answer;
 * then the file is removed. `TMPDIR` first, then `/tmp`.
 */
export function ownUid(): number {
  const dirs = [...new Set([Deno.env.get("TMPDIR") || "/tmp", "/tmp"])];
  const errors: unknown[] = [];
  for (const dir of dirs) {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const path = `${dir.replace(/\/+$/, "")}/tp0-uid-${crypto.randomUUID()}`;
      let file: Deno.FsFile;
      try {
        file = Deno.openSync(path, { write: true, createNew: true });
      } catch (error) {
        errors.push(error);
        // A name taken first by someone else: another name.
        if (error instanceof Deno.errors.AlreadyExists) continue;
        break;
      }
      let uid: number | null;
      try {
        uid = file.statSync().uid;
      } finally {
        file.close();
      }
      if (uid === null) throw new Error("Cannot start: no file owners here");
      removeProbe(path);
      return uid;
    }
  }
  throw new AggregateError(
    errors,
    `Cannot start: no probe file could be made in ${dirs.join(" or ")}`,
  );
}

/**
 * Removes the probe, if it can: the answer is settled by then, and a probe
 * left behind (another user removed it first, swapped it, or made their
 * directory read-only meanwhile) is an empty file of no use to anyone, so
 * it never stops the start.
 */
function removeProbe(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    // Not ours to insist on: the name may now be someone else's.
    if (!(error instanceof Error)) throw error;
  }
}
