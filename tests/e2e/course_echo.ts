/**
 * The course-harness scenarios of the echo stages (see `course.ts`): ej1
 * and ej2 (echo and config), ej3 (the echo validator), ej4 (SIGTERM).
 *
 * @module
 */
import type { CourseRecord } from "./course_log.ts";
import {
  agencyConfig,
  check,
  dc,
  down,
  type Harness,
  must,
  reset,
  run,
  serverConfig,
  up,
} from "./course_harness.ts";
import { checkAllLines, follow, noParseErrors } from "./course_log_checks.ts";

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

/** ej1: echo rounds with 1 to 5 clients. */
export async function ej1(h: Harness): Promise<void> {
  for (const [clients, messages] of [[1, 1], [1, 3], [2, 1], [5, 1], [5, 5]]) {
    console.log(`ej1: ${clients} client(s), ${messages} message(s)`);
    await reset(h, "ej1");
    await serverConfig(h);
    await agencyConfig(h, { amount: messages! });
    if (await up(h, clients!)) await echoRun(h, clients!, messages!);
    await down(h);
  }
}

/** ej2: every config key read from the files, client and server. */
export async function ej2(h: Harness): Promise<void> {
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

/** ej3: the echo validator against the central and two mocks. */
export async function ej3(h: Harness): Promise<void> {
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

/** ej4: SIGTERM to a client, the server, or all, mid-run. */
export async function ej4(h: Harness): Promise<void> {
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
