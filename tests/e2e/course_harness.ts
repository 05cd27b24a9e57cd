/**
 * The course-harness mode's machinery (see `course.ts`): the pass and fail
 * tally, commands, the scratch copy of the tree with its delivery
 * branches, the compose project, and the course's config and bet files.
 *
 * @module
 */
import { join } from "node:path";
import { ROOT } from "../../scripts/processes.ts";

/** The compose file the harness generates and drives. */
export const FILE = "docker-compose-dev.yaml";
/** The number the draw picks (`LOTTERY_WINNER_NUMBER`). */
export const WINNING_NUMBER = "7574";

/** Checks that held so far. */
export let passed = 0;
/** Checks that failed so far. */
export let failed = 0;

/** Prints one check's outcome and counts it; returns whether it held. */
export function check(description: string, ok: boolean, detail = ""): boolean {
  if (ok) {
    passed++;
    console.log(`  ok    ${description}`);
  } else {
    failed++;
    console.log(`  FAIL  ${description}${detail === "" ? "" : `: ${detail}`}`);
  }
  return ok;
}

/** Runs a command in `cwd`; returns its exit code and output. */
export async function run(
  cwd: string,
  command: string,
  args: string[],
  timeoutMs = 120_000,
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(command, {
    args,
    cwd,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).spawn();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

/** Runs a command in `cwd`; returns its output, or throws if it failed. */
export async function must(
  cwd: string,
  command: string,
  args: string[],
): Promise<string> {
  const { code, output } = await run(cwd, command, args);
  if (code !== 0) {
    throw new Error(
      `Cannot run ${command} ${args.join(" ")}: exit ${code}\n${output}`,
    );
  }
  return output;
}

/** `docker compose` (v2) where present, otherwise `docker-compose` (1.29). */
export async function composeCommand(): Promise<string[]> {
  const v2 = await run(ROOT, "docker", ["compose", "version"]).catch(() => ({
    code: 1,
  }));
  return v2.code === 0 ? ["docker", "compose"] : ["docker-compose"];
}

/**
 * A course machine's PATH: one directory of links to every command on
 * this PATH but `deno` (it shares /usr/bin with bash, so dropping
 * directories would not do).
 */
export async function withoutDeno(dir: string): Promise<string> {
  await Deno.mkdir(dir);
  for (const from of (Deno.env.get("PATH") ?? "").split(":")) {
    if (from === "") continue;
    try {
      for await (const entry of Deno.readDir(from)) {
        if (entry.name === "deno") continue;
        try {
          await Deno.symlink(join(from, entry.name), join(dir, entry.name));
        } catch (error) {
          // The first directory on PATH wins, as it does for a shell.
          if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
        }
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return dir;
}

/**
 * A scratch git repository holding a copy of the project's tree, with the
 * delivery branches ej1 … ej8 that `make course-branches` makes.
 */
export async function scratchCopy(): Promise<string> {
  const parent = await Deno.makeTempDir({ prefix: "tp0-course-" });
  const repo = join(parent, "tp0");
  const listing = await must(ROOT, "git", [
    "ls-files",
    "-z",
    "--cached",
    "--others",
    "--exclude-standard",
  ]);
  for (const path of listing.split("\0").filter((p) => p !== "")) {
    const from = join(ROOT, path);
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(from);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue; // deleted, not staged
      throw error;
    }
    if (!info.isFile) continue;
    const to = join(repo, path);
    await Deno.mkdir(join(to, ".."), { recursive: true });
    await Deno.copyFile(from, to);
  }
  const git = ["-c", "user.name=e2e", "-c", "user.email=e2e@localhost"];
  await must(repo, "git", ["init", "-q"]);
  await must(repo, "git", ["add", "-A"]);
  await must(repo, "git", [...git, "commit", "-q", "-m", "scratch copy"]);
  const branches = await run(
    repo,
    "make",
    ["--no-print-directory", "course-branches"],
    60_000,
    {
      GIT_AUTHOR_NAME: "e2e",
      GIT_AUTHOR_EMAIL: "e2e@localhost",
      GIT_COMMITTER_NAME: "e2e",
      GIT_COMMITTER_EMAIL: "e2e@localhost",
    },
  );
  if (!check("make course-branches in the scratch copy", branches.code === 0)) {
    throw new Error(`Cannot make the course branches:\n${branches.output}`);
  }
  return repo;
}

/** Where the scenarios run and how they reach compose. */
export interface Harness {
  /** The scratch repository the scenarios run in. */
  readonly repo: string;
  /** The compose command, v2 (`docker compose`) or v1 (`docker-compose`). */
  readonly compose: string[];
  /** PATH for generar-compose.sh: everything but Deno. */
  readonly path: string;
}

/** Runs compose on the harness's compose file. */
export function dc(
  h: Harness,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number; output: string }> {
  const [command, ...rest] = h.compose;
  return run(h.repo, command!, [...rest, "-f", FILE, ...args], timeoutMs);
}

/** The course's config.ini: exactly its four keys. */
export async function serverConfig(
  h: Harness,
  { backlog = 5, level = "INFO" } = {},
): Promise<void> {
  await Deno.writeTextFile(
    join(h.repo, "server", "config.ini"),
    `[DEFAULT]\nSERVER_PORT = 12345\nSERVER_IP = server\nSERVER_LISTEN_BACKLOG = ${backlog}\nLOGGING_LEVEL = ${level}`,
  );
}

/** The course's config.yaml: exactly its five keys. */
export async function agencyConfig(
  h: Harness,
  {
    amount = 3,
    period = "50ms",
    level = "INFO",
    maxAmount = 10,
  } = {},
): Promise<void> {
  await Deno.writeTextFile(
    join(h.repo, "client", "config.yaml"),
    `server:\n  address: "server:12345"\nloop:\n  amount: ${amount}\n  period: "${period}"\nlog:\n  level: "${level}"\nbatch:\n  maxAmount: ${maxAmount}\n`,
  );
}

/** Writes `.data/agency-K.csv` the way the course's tests do. */
export async function betsFile(
  h: Harness,
  agency: number,
  bets: number,
  winners = 0,
): Promise<void> {
  const lines: string[] = [];
  for (let i = 1; i <= bets; i++) {
    const document = String(10_000_000 + agency * 100_000 + i);
    const number = i <= winners ? WINNING_NUMBER : String(i);
    lines.push(`A,B,${document},2000-01-01,${number}`);
  }
  await Deno.writeTextFile(
    join(h.repo, ".data", `agency-${agency}.csv`),
    lines.join("\n") + "\n",
  );
}

/**
 * Back to the committed tree (of `branch`, when given, as the harness
 * switches before each exercise), nothing of ours running.
 */
export async function reset(h: Harness, branch?: string): Promise<void> {
  await must(h.repo, "git", ["checkout", "."]);
  await must(h.repo, "git", ["clean", "-fd"]);
  if (branch !== undefined) await must(h.repo, "git", ["switch", branch]);
  const names = [
    "server",
    ...Array.from({ length: 10 }, (_, i) => `client${i + 1}`),
  ];
  await run(h.repo, "docker", ["rm", "-f", "-v", ...names]);
  await run(h.repo, "docker", ["network", "rm", "tp0_testing_net"]);
}

/** The harness's teardown (`stop`, then `down`), and the anonymous volumes removed. */
export async function down(h: Harness, grace?: number): Promise<void> {
  const volumes = await run(h.repo, "docker", [
    "inspect",
    "-f",
    '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}',
    "server",
  ]);
  await dc(h, ["stop", ...(grace === undefined ? [] : ["-t", String(grace)])]);
  await dc(h, ["down"]);
  const names = volumes.code === 0 ? volumes.output.trim().split(/\s+/) : [];
  if (names.length > 0 && names[0] !== "") {
    await run(h.repo, "docker", ["volume", "rm", ...names]);
  }
}

/** `generar-compose.sh` for `clients` clients, then `compose up -d`; true when both worked. */
export async function up(h: Harness, clients: number): Promise<boolean> {
  const generated = await run(
    h.repo,
    "bash",
    ["generar-compose.sh", FILE, String(clients)],
    120_000,
    { PATH: h.path },
  );
  if (!check(`generar-compose.sh ${FILE} ${clients}`, generated.code === 0)) {
    console.log(generated.output);
    return false;
  }
  const started = await dc(h, ["up", "-d"]);
  return check("compose up -d", started.code === 0, started.output);
}
