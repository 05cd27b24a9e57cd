/**
 * The course-harness mode of `make e2e`: every scenario driven the way the
 * course's black-box harness (7574-sistemas-distribuidos/tp0-tests) drives a
 * repository, against the images `make docker-image` built.
 *
 *   deno run --allow-run --allow-read --allow-write --allow-env tests/e2e/course.ts [ej1 … ej8]
 *
 * The scratch copy gets the delivery branches from `make course-branches`.
 * Before every scenario: `git checkout .`, `git clean -fd` and `git switch
 * ejN`, the project's containers and network removed; then the config
 * files are overwritten with only the course's keys (never `mode:`: the
 * branch pins the stage), `bash generar-compose.sh docker-compose-dev.yaml
 * N` with no Deno on PATH, `compose up -d`, and the
 * merged `compose logs -f` read line by line, every line held to the
 * harness's parser (course_log.ts). Afterwards every line of every
 * container is parsed again, and the run ends with `compose stop` and
 * `compose down`.
 *
 * `git clean -fd` deletes untracked files, so it never runs in the user's
 * tree: the tree (tracked files and untracked ones git does not ignore,
 * uncommitted edits included) is copied into a scratch repository under
 * the system's temporary directory, and every scenario runs there.
 * Order is checked in the central's own log (one pipe), never by
 * waiting. Every wait has a deadline.
 */
import { join } from "node:path";
import { ROOT } from "../../scripts/processes.ts";
import { type CourseRecord, parseCourseLine } from "./course_log.ts";

const DATASET = join(ROOT, "..", "shared", "tp0-dataset");
const FILE = "docker-compose-dev.yaml";
const WINNING_NUMBER = "7574";

let passed = 0;
let failed = 0;

function check(description: string, ok: boolean, detail = ""): boolean {
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
async function run(
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

async function must(cwd: string, command: string, args: string[]) {
  const { code, output } = await run(cwd, command, args);
  if (code !== 0) {
    throw new Error(
      `Cannot run ${command} ${args.join(" ")}: exit ${code}\n${output}`,
    );
  }
  return output;
}

/** `docker compose` (v2) where present, otherwise `docker-compose` (1.29). */
async function composeCommand(): Promise<string[]> {
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
async function withoutDeno(dir: string): Promise<string> {
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
async function scratchCopy(): Promise<string> {
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

interface Harness {
  readonly repo: string;
  readonly compose: string[];
  /** PATH for generar-compose.sh: everything but Deno. */
  readonly path: string;
}

function dc(h: Harness, args: string[], timeoutMs = 120_000) {
  const [command, ...rest] = h.compose;
  return run(h.repo, command!, [...rest, "-f", FILE, ...args], timeoutMs);
}

/** The course's config.ini: exactly its four keys. */
async function serverConfig(
  h: Harness,
  { backlog = 5, level = "INFO" } = {},
): Promise<void> {
  await Deno.writeTextFile(
    join(h.repo, "server", "config.ini"),
    `[DEFAULT]\nSERVER_PORT = 12345\nSERVER_IP = server\nSERVER_LISTEN_BACKLOG = ${backlog}\nLOGGING_LEVEL = ${level}`,
  );
}

/** The course's config.yaml: exactly its five keys. */
async function agencyConfig(
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
async function betsFile(
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
async function reset(h: Harness, branch?: string): Promise<void> {
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
async function down(h: Harness, grace?: number): Promise<void> {
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

async function up(h: Harness, clients: number): Promise<boolean> {
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

/** What a scenario does with each parsed line; true ends the reading. */
type OnRecord = (record: CourseRecord, index: number) => boolean | void;

/**
 * Reads `compose logs -f` line by line, as the harness does, until
 * `onRecord` says so, the stream ends or the deadline passes. Returns the
 * parse errors and whether `onRecord` ended it.
 */
async function follow(
  h: Harness,
  onRecord: OnRecord,
  timeoutMs: number,
): Promise<{ errors: string[]; ended: boolean }> {
  const [command, ...rest] = h.compose;
  const child = new Deno.Command(command!, {
    args: [...rest, "-f", FILE, "logs", "-f"],
    cwd: h.repo,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  // SIGKILL: a `docker compose` that wraps docker-compose 1.29 can outlive
  // SIGTERM, and waiting for its exit would hang the run.
  const stop = () => {
    try {
      child.kill("SIGKILL");
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
  };
  const timer = setTimeout(stop, timeoutMs);
  const errors: string[] = [];
  let ended = false;
  let index = 0;
  let pending = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of child.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      let lf;
      while (!ended && (lf = pending.indexOf("\n")) !== -1) {
        // docker-compose 1.29 colours its prefixes even into a pipe
        // (compose v2 does not): the harness reads them uncoloured.
        const line = pending.slice(0, lf).replace(ANSI, "");
        pending = pending.slice(lf + 1);
        index++;
        let record: CourseRecord | null = null;
        try {
          record = parseCourseLine(line);
        } catch (error) {
          errors.push((error as Error).message);
        }
        if (onRecord(record ?? UNPARSED, index)) ended = true;
      }
      if (ended) break;
    }
  } finally {
    clearTimeout(timer);
    stop();
    await child.status;
  }
  return { errors, ended };
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

const UNPARSED: CourseRecord = {
  source: "",
  action: "",
  result: "",
  details: {},
};

/**
 * Every line of every container, held to the parser; with `failsAllowed`
 * false, none may say `result: fail`. Returns the parsed records: what a
 * scenario checks is read here, after its end, since the merged stream
 * may end before another container's earlier lines were printed.
 */
async function checkAllLines(
  h: Harness,
  failsAllowed = false,
): Promise<CourseRecord[]> {
  // Not --no-color: a wrapper that adds it itself refuses it twice and
  // prints its usage; colours (docker-compose 1.29 colours a pipe) are stripped.
  const output = (await dc(h, ["logs"])).output.replace(ANSI, "");
  const errors: string[] = [];
  const fails: string[] = [];
  const records: CourseRecord[] = [];
  let lines = 0;
  for (const line of output.split("\n")) {
    if (line.trim() === "") continue;
    lines++;
    try {
      const record = parseCourseLine(line);
      if (record === null) continue;
      records.push(record);
      if (record.result === "fail" && record.action !== "exit") {
        fails.push(line);
      }
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  check(
    `every line of every container parses (${lines} lines)`,
    errors.length === 0,
    errors.slice(0, 3).join("; "),
  );
  if (!failsAllowed) {
    check(
      "no result: fail in any container",
      fails.length === 0,
      fails.slice(0, 3).join("\n"),
    );
  }
  return records;
}

function noParseErrors(errors: string[]) {
  check(
    "every streamed line parses",
    errors.length === 0,
    errors.slice(0, 3).join("; "),
  );
}

// ---------------------------------------------------------------- ej1, ej2

/**
 * Echo runs: reads the stream until every client logged loop_finished (no
 * fail, no server exit, client exits 0 on the way), then checks every
 * client's messages in the whole logs, and returns those logs.
 */
async function echoRun(
  h: Harness,
  clients: number,
  messages: number,
): Promise<CourseRecord[]> {
  let finished = 0;
  let serverExited = false;
  const badExits: string[] = [];
  let fails = 0;
  const { errors, ended } = await follow(h, (r) => {
    if (r.result === "fail" && r.action !== "exit") fails++;
    if (r.action === "exit") {
      if (r.source === "server") serverExited = true;
      else if (r.result !== "success") badExits.push(r.source);
    }
    if (r.action === "loop_finished") finished++;
    return finished >= clients;
  }, 60_000);
  noParseErrors(errors);
  check(`every client logged loop_finished (${clients})`, ended);
  check("no result: fail streamed", fails === 0);
  check("the server kept running", !serverExited);
  check(
    "the clients that exited exited 0",
    badExits.length === 0,
    badExits.join(", "),
  );
  const records = await checkAllLines(h);
  for (let k = 1; k <= clients; k++) {
    const seen = new Set<number>();
    for (const r of records) {
      if (r.source !== `client${k}` || r.action !== "receive_message") continue;
      const text = r.details.msg ?? "";
      const at = text.lastIndexOf("°");
      if (at >= 0) seen.add(Number(text.slice(at + 1)));
    }
    const all = Array.from({ length: messages }, (_, i) => i + 1).every((n) =>
      seen.has(n)
    );
    check(`client${k} exchanged messages 1…${messages}`, all);
  }
  return records;
}

async function ej1(h: Harness): Promise<void> {
  for (const [clients, messages] of [[1, 1], [1, 3], [2, 1], [5, 1], [5, 5]]) {
    console.log(`ej1: ${clients} client(s), ${messages} message(s)`);
    await reset(h, "ej1");
    await serverConfig(h);
    await agencyConfig(h, { amount: messages! });
    if (await up(h, clients!)) await echoRun(h, clients!, messages!);
    await down(h);
  }
}

async function ej2(h: Harness): Promise<void> {
  const cases: [string, Record<string, string | number>, boolean][] = [
    [
      "client A",
      { loop_amount: 5, loop_period: "100ms", log_level: "DEBUG" },
      false,
    ],
    [
      "client B",
      { loop_amount: 2, loop_period: "250ms", log_level: "INFO" },
      false,
    ],
    ["server A", { listen_backlog: 8, logging_level: "DEBUG" }, true],
    ["server B", { listen_backlog: 16, logging_level: "INFO" }, true],
  ];
  for (const [name, values, server] of cases) {
    console.log(`ej2: ${name} ${JSON.stringify(values)}`);
    await reset(h, "ej2");
    if (server) {
      await serverConfig(h, {
        backlog: Number(values.listen_backlog),
        level: String(values.logging_level),
      });
      await agencyConfig(h);
    } else {
      await serverConfig(h);
      await agencyConfig(h, {
        amount: Number(values.loop_amount),
        period: String(values.loop_period),
        level: String(values.log_level),
      });
    }
    if (await up(h, 1)) {
      const records = await echoRun(
        h,
        1,
        server ? 3 : Number(values.loop_amount),
      );
      const source = server ? "server" : "client1";
      const lines = records.filter((r) =>
        r.source === source && r.action === "config"
      );
      const mismatches = Object.entries(values).filter(([key, value]) =>
        lines[0]?.details[key] !== String(value)
      ).map(([key, value]) => `${key}: ${lines[0]?.details[key]} ≠ ${value}`);
      check(
        `${source}'s config line shows what the file says`,
        lines.length === 1 && mismatches.length === 0,
        `${lines.length} line(s) ${mismatches.join(", ")}`,
      );
    }
    await down(h);
  }
}

// ---------------------------------------------------------------- ej3

async function validator(h: Harness): Promise<string> {
  const { output } = await run(
    h.repo,
    "sh",
    ["validar-echo-server.sh"],
    60_000,
  );
  return output;
}

async function ej3(h: Harness): Promise<void> {
  console.log(
    "ej3: sh validar-echo-server.sh against the central, right after up",
  );
  await reset(h, "ej3");
  await serverConfig(h);
  if (await up(h, 0)) {
    const out = await validator(h);
    check(
      "success against the central",
      out.includes("action: test_echo_server | result: success"),
      out,
    );
    const { errors, ended } = await follow(
      h,
      (r) =>
        r.source === "server" && r.action === "receive_message" &&
        r.result === "success",
      30_000,
    );
    noParseErrors(errors);
    check("the server logged receive_message", ended);
    await checkAllLines(h);
  }
  await down(h);

  console.log("ej3: against a healthy and an unhealthy mock server");
  await reset(h, "ej3");
  await must(h.repo, "docker", [
    "network",
    "create",
    "--subnet",
    "172.25.125.0/24",
    "tp0_testing_net",
  ]);
  const mocks: [string, string[], string][] = [
    ["healthy", ["-e", "cat"], "success"],
    ["unhealthy", [
      "-e",
      "sh",
      "-c",
      'read line; echo "error reading data: $line"',
    ], "fail"],
  ];
  for (const [name, args, expected] of mocks) {
    await run(h.repo, "docker", ["rm", "-f", "server"]);
    await must(h.repo, "docker", [
      "run",
      "-d",
      "--name",
      "server",
      "--network",
      "tp0_testing_net",
      "tp0-netcat",
      "nc",
      "-ll",
      "-p",
      "12345",
      ...args,
    ]);
    const out = await validator(h);
    check(
      `${expected} against the ${name} mock`,
      out.includes(`action: test_echo_server | result: ${expected}`),
      out,
    );
  }
  await run(h.repo, "docker", ["rm", "-f", "server"]);
  await run(h.repo, "docker", ["network", "rm", "tp0_testing_net"]);
}

// ---------------------------------------------------------------- ej4

/**
 * SIGTERM after `after` log lines: `docker stop -t 20` of a container, or
 * `compose stop -t 10` of all; the stopped container(s) must log `exited
 * with code 0`.
 */
async function stopRun(
  h: Harness,
  clients: number,
  target: string,
  after: number,
): Promise<void> {
  let stopSent: Promise<unknown> | null = null;
  let failsBefore = 0;
  const exits = new Map<string, string>();
  const wanted = target === "all"
    ? ["server", ...Array.from({ length: clients }, (_, i) => `client${i + 1}`)]
    : [target];
  const { errors } = await follow(h, (r, index) => {
    if (index === after && stopSent === null) {
      stopSent = target === "all"
        ? dc(h, ["stop", "-t", "10"])
        : run(h.repo, "docker", ["stop", target, "-t", "20"]);
    }
    if (stopSent === null && r.result === "fail") failsBefore++;
    if (r.action === "exit") exits.set(r.source, r.result);
    return wanted.every((name) => exits.has(name));
  }, 90_000);
  if (stopSent !== null) await stopSent;
  noParseErrors(errors);
  check("SIGTERM sent", stopSent !== null);
  check("no result: fail before it", failsBefore === 0);
  for (const name of wanted) {
    check(
      `${name} logged "exited with code 0"`,
      exits.get(name) === "success",
      exits.get(name) ?? "no exit line",
    );
  }
  await checkAllLines(h, true);
}

async function ej4(h: Harness): Promise<void> {
  for (const target of ["client1", "server", "all"]) {
    console.log(`ej4: SIGTERM to ${target} during 500 × 150 ms echoes`);
    await reset(h, "ej4");
    await serverConfig(h, { level: "DEBUG" });
    await agencyConfig(h, { amount: 500, period: "150ms" });
    if (await up(h, 1)) await stopRun(h, 1, target, 10);
    await down(h);
  }
  console.log(
    "ej4: SIGTERM to the server alone (0 clients) after its second line",
  );
  await reset(h, "ej4");
  await serverConfig(h, { level: "DEBUG" });
  if (await up(h, 0)) await stopRun(h, 0, "server", 2);
  await down(h);
}

// ---------------------------------------------------------------- ej5

/**
 * Reads the stream until every client has exited (the harness's end of a
 * run), checking on the way that every line parses and none says fail;
 * then every line of every container. Returns the exits and those lines.
 */
async function untilClientsExit(
  h: Harness,
  clients: number,
  timeoutMs: number,
): Promise<{ exits: Map<string, string>; records: CourseRecord[] }> {
  const exits = new Map<string, string>();
  let fails = 0;
  const names = Array.from({ length: clients }, (_, i) => `client${i + 1}`);
  const { errors, ended } = await follow(h, (r) => {
    if (r.result === "fail" && r.action !== "exit") fails++;
    if (r.action === "exit") exits.set(r.source, r.result);
    return names.every((name) => exits.has(name));
  }, timeoutMs);
  noParseErrors(errors);
  check(`every client exited (${clients})`, ended);
  check("no result: fail streamed", fails === 0);
  for (const name of names) {
    check(`${name} exited 0`, exits.get(name) === "success");
  }
  return { exits, records: await checkAllLines(h) };
}

/** The records of `action` with result success. */
function successes(records: CourseRecord[], action: string): CourseRecord[] {
  return records.filter((r) => r.action === action && r.result === "success");
}

async function ej5(h: Harness): Promise<void> {
  const clients = 5;
  console.log(`ej5: one bet from each of ${clients} clients`);
  await reset(h, "ej5");
  await serverConfig(h);
  await agencyConfig(h);
  if (await up(h, clients)) {
    const { records } = await untilClientsExit(h, clients, 60_000);
    const bet = (r: CourseRecord) => `${r.details.dni}/${r.details.numero}`;
    const stored = new Set(successes(records, "apuesta_almacenada").map(bet));
    for (let k = 1; k <= clients; k++) {
      const sent = successes(records, "apuesta_enviada").filter((r) =>
        r.source === `client${k}`
      ).map(bet);
      check(
        `client${k}: apuesta_enviada ${sent[0]}, and the server stored it`,
        sent.length === 1 && stored.has(sent[0]!),
      );
    }
  }
  await down(h);
}

// ---------------------------------------------------------------- ej6

async function ej6(h: Harness): Promise<void> {
  for (const bets of [64, 99]) {
    console.log(`ej6: ${bets} bets, batch.maxAmount 64`);
    await reset(h, "ej6");
    await serverConfig(h);
    await agencyConfig(h, { maxAmount: 64 });
    await betsFile(h, 1, bets);
    if (await up(h, 1)) {
      const { records } = await untilClientsExit(h, 1, 60_000);
      const counts = successes(records, "apuesta_recibida").map((r) =>
        Number(r.details.cantidad)
      );
      const sum = counts.reduce((a, b) => a + b, 0);
      check(
        `batches of 64 but the last, ${bets} in all (${counts.join(", ")})`,
        sum === bets && counts.slice(0, -1).every((c) => c === 64) &&
          counts.length === Math.ceil(bets / 64),
      );
    }
    await down(h);
  }
}

// ---------------------------------------------------------------- ej7, ej8

/**
 * A full lottery: reads until every client has exited, then checks each
 * client's winners and, in the central's log, that every apuesta_recibida
 * comes before sorteo and every winners answer after.
 */
async function lotteryRun(h: Harness, winners: number[]): Promise<void> {
  const clients = winners.length;
  if (!(await up(h, clients))) return;
  const { records } = await untilClientsExit(h, clients, 300_000);
  const draws = successes(records, "sorteo").length;
  check("sorteo logged once", draws === 1, String(draws));
  for (const [i, expected] of winners.entries()) {
    const name = `client${i + 1}`;
    const got = successes(records, "consulta_ganadores").filter((r) =>
      r.source === name
    ).map((r) => r.details.cant_ganadores);
    check(
      `${name}: consulta_ganadores | result: success | cant_ganadores: ${expected}`,
      got.length === 1 && got[0] === String(expected),
      got.join(", "),
    );
  }
  await checkOrder(h, winners);
}

/**
 * The order, read in the central's own log: one pipe, so lines stand in
 * the order its processes wrote them (docker's per-line timestamps come
 * from a reader per container, and lines of two containers microseconds
 * apart can swap). Every apuesta_recibida before sorteo, and after it
 * every respuesta_ganadores (the central logs it at DEBUG before the
 * answer leaves), one per agency, with the count its client logged.
 */
async function checkOrder(h: Harness, winners: number[]): Promise<void> {
  const { output } = await run(h.repo, "docker", ["logs", "server"]);
  const lines = output.split("\n");
  const at = (pattern: RegExp) =>
    lines.flatMap((line, i) => pattern.test(line) ? [i] : []);
  const [draw] = at(/action: sorteo \| result: success/);
  const batches = at(/action: apuesta_recibida \|/);
  const answers = at(/action: respuesta_ganadores \| result: success/).map(
    (i) => ({ i, record: parseCourseLine(`server | ${lines[i]}`)! }),
  );
  check(
    `in the central's log: ${batches.length} apuesta_recibida before sorteo`,
    draw !== undefined && batches.length > 0 && batches.every((i) => i < draw),
  );
  const counts = answers.map(({ record }) =>
    `${record.details.agencia}:${record.details.cant_ganadores}`
  ).sort();
  const expected = winners.map((n, k) => `${k + 1}:${n}`).sort();
  check(
    `in the central's log: respuesta_ganadores ${
      expected.join(" ")
    } after sorteo`,
    draw !== undefined && answers.every(({ i }) => i > draw) &&
      counts.join(" ") === expected.join(" "),
    `sorteo at line ${draw}, answers ${
      answers.map(({ i, record }) => `${record.details.agencia}@${i}`).join(" ")
    }`,
  );
}

async function ej7(h: Harness): Promise<void> {
  for (
    const [bets, winners] of [[100, [2, 1, 0]], [60, [1, 2, 3, 4, 5]]] as const
  ) {
    console.log(
      `ej7: ${winners.length} clients × ${bets} bets, winners ${
        winners.join(", ")
      }`,
    );
    await reset(h, "ej7");
    await serverConfig(h, { level: "DEBUG" });
    await agencyConfig(h);
    for (const [i, w] of winners.entries()) await betsFile(h, i + 1, bets, w);
    await lotteryRun(h, [...winners]);
    await down(h);
  }
}

async function ej8(h: Harness): Promise<void> {
  console.log("ej8: the course dataset, 5 clients");
  await reset(h, "ej8");
  await serverConfig(h, { level: "DEBUG" });
  await agencyConfig(h, { maxAmount: 64 });
  const winners: number[] = [];
  for (let k = 1; k <= 5; k++) {
    const text = await Deno.readTextFile(join(DATASET, `agency-${k}.csv`));
    await Deno.writeTextFile(join(h.repo, ".data", `agency-${k}.csv`), text);
    winners.push(
      text.split("\n").filter((l) => l.trimEnd().endsWith(`,${WINNING_NUMBER}`))
        .length,
    );
  }
  await lotteryRun(h, winners);
  await down(h);
}

const SCENARIOS: Record<string, (h: Harness) => Promise<void>> = {
  ej1,
  ej2,
  ej3,
  ej4,
  ej5,
  ej6,
  ej7,
  ej8,
};

if (import.meta.main) {
  const names = Deno.args.length > 0 ? Deno.args : Object.keys(SCENARIOS);
  const unknown = names.filter((n) => !(n in SCENARIOS));
  if (unknown.length > 0) {
    console.error(
      `usage: course.ts [${Object.keys(SCENARIOS).join(" ")}] (unknown: ${
        unknown.join(", ")
      })`,
    );
    Deno.exit(2);
  }
  const started = Date.now();
  const repo = await scratchCopy();
  console.log(`course mode: scratch copy of the tree in ${repo}`);
  const h: Harness = {
    repo,
    compose: await composeCommand(),
    path: await withoutDeno(join(repo, "..", "path")),
  };
  try {
    for (const name of names) await SCENARIOS[name]!(h);
  } finally {
    await reset(h);
    if (!Deno.env.get("KEEP_WORK")) {
      await Deno.remove(join(repo, ".."), { recursive: true });
    }
  }
  console.log(
    `\ne2e course mode: ${passed} passed, ${failed} failed (${
      ((Date.now() - started) / 1000).toFixed(0)
    } s)`,
  );
  Deno.exit(failed === 0 ? 0 : 1);
}
