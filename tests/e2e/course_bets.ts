/**
 * The course-harness scenarios of the betting stages (see `course.ts`):
 * ej5 (one bet), ej6 (batches), ej7 and ej8 (the lottery, on generated
 * bets and on the course dataset).
 *
 * @module
 */
import { join } from "node:path";
import { ROOT } from "../../scripts/processes.ts";
import { type CourseRecord, parseCourseLine } from "./course_log.ts";
import {
  agencyConfig,
  betsFile,
  check,
  down,
  type Harness,
  reset,
  run,
  serverConfig,
  up,
  WINNING_NUMBER,
} from "./course_harness.ts";
import { successes, untilClientsExit } from "./course_log_checks.ts";

const DATASET = join(ROOT, "..", "shared", "tp0-dataset");

// ---------------------------------------------------------------- ej5

/** ej5: one bet from each of five clients, stored. */
export async function ej5(h: Harness): Promise<void> {
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

/** ej6: bets in batches of `batch.maxAmount`. */
export async function ej6(h: Harness): Promise<void> {
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

/** ej7: full lotteries on generated bets with known winners. */
export async function ej7(h: Harness): Promise<void> {
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

/** ej8: the full lottery on the course dataset. */
export async function ej8(h: Harness): Promise<void> {
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
