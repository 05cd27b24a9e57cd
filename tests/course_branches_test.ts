/**
 * Tests of `make course-branches` (scripts/course_branches.sh) on a
 * scratch repository: the eight branches and their pins, a second run, the
 * user's branch and tree untouched, and its refusals.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "../scripts/processes.ts";

const IDENTITY = {
  GIT_AUTHOR_NAME: "test",
  GIT_AUTHOR_EMAIL: "test@localhost",
  GIT_COMMITTER_NAME: "test",
  GIT_COMMITTER_EMAIL: "test@localhost",
};

async function sh(cwd: string, command: string, args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    cwd,
    env: IDENTITY,
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, out: text(stdout), err: text(stderr) };
}

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { code, out, err } = await sh(cwd, "git", args);
  assert.equal(code, 0, `git ${args.join(" ")}: ${err}`);
  return out.trim();
}

const branches = (repo: string) =>
  sh(repo, "bash", [join(repo, "scripts", "course_branches.sh")]);

Deno.test("course-branches: ej1 … ej8 on the current commit, each pinning its stage; again, nothing moves; refusals in a line", async () => {
  const repo = await Deno.makeTempDir({ prefix: "course-branches-" });
  try {
    await Deno.mkdir(join(repo, "scripts"));
    await Deno.copyFile(
      join(ROOT, "scripts", "course_branches.sh"),
      join(repo, "scripts", "course_branches.sh"),
    );
    await Deno.writeTextFile(join(repo, "README.md"), "work\n");
    await git(repo, "init", "-q", "-b", "work");
    await git(repo, "add", "-A");
    await git(repo, "commit", "-q", "-m", "base");
    const base = await git(repo, "rev-parse", "HEAD");

    const first = await branches(repo);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /^ej1: created at /);
    assert.match(
      first.out,
      /still on work; deliver with: git push origin ej1 /,
    );
    const modes = [
      "echo",
      "echo",
      "echo",
      "echo",
      "bet",
      "lottery",
      "lottery",
      "lottery",
    ];
    const tips: string[] = [];
    for (const [i, mode] of modes.entries()) {
      const branch = `ej${i + 1}`;
      tips.push(await git(repo, "rev-parse", branch));
      assert.equal(await git(repo, "rev-parse", `${branch}^`), base);
      const pin = await git(repo, "show", `${branch}:.exercise`);
      assert.match(
        pin,
        new RegExp(`^EXERCISE=${branch}\nCLI_MODE=${mode}$`, "m"),
      );
      // Only .exercise differs from the commit it was made from.
      assert.equal(
        await git(repo, "diff", "--name-only", base, branch),
        ".exercise",
      );
    }
    assert.equal(await git(repo, "symbolic-ref", "--short", "HEAD"), "work");
    assert.equal(await git(repo, "status", "--porcelain"), "");

    const again = await branches(repo);
    assert.equal(again.code, 0, again.err);
    assert.equal(again.out.match(/left as it is/g)?.length, 8);
    for (const [i, tip] of tips.entries()) {
      assert.equal(await git(repo, "rev-parse", `ej${i + 1}`), tip);
    }

    await Deno.writeTextFile(join(repo, "README.md"), "edited\n");
    const dirty = await branches(repo);
    assert.equal(dirty.code, 1);
    assert.match(
      dirty.err,
      /^Cannot make the course branches: the working tree has uncommitted changes[^\n]*\n$/,
    );
    await git(repo, "commit", "-q", "-am", "next");

    const moved = await branches(repo);
    assert.equal(moved.code, 0, moved.err);
    assert.equal(moved.out.match(/: moved from /g)?.length, 8);
    assert.match(moved.out, /git push --force origin ej1 /);
    assert.equal(
      await git(repo, "rev-parse", "ej8^"),
      await git(repo, "rev-parse", "HEAD"),
    );

    await git(repo, "switch", "-q", "ej3");
    const onBranch = await branches(repo);
    assert.equal(onBranch.code, 1);
    assert.match(
      onBranch.err,
      /^Cannot make the course branches: the current commit is already a course branch's[^\n]*\n$/,
    );
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});
