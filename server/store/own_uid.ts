/**
 * This process's user id, learned without extra permissions.
 *
 * @module
 */

/**
 * This process's user id, without the `sys` permission `Deno.uid` needs:
 * the owner of a directory it makes (then removes) in the temporary
 * directory.
 */
export function ownUid(): number {
  const probe = Deno.makeTempDirSync({ prefix: "tp0-uid-" });
  try {
    const { uid } = Deno.lstatSync(probe);
    if (uid === null) throw new Error("Cannot start: no file owners here");
    return uid;
  } finally {
    Deno.removeSync(probe);
  }
}
