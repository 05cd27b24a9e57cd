/**
 * The whole system on the host: a central with 2 workers and real agency
 * processes on 127.0.0.1, every stage, checked through logs and storage.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sampleAgency } from "../scripts/sample_bets.ts";
import {
  agency,
  Central,
  DATASET,
  field,
  SAMPLE_BET,
  tempDir,
} from "./harness.ts";

/** Stored rows of bets.csv, without their agency, as a sorted list. */
async function storedRows(dir: string): Promise<string[]> {
  const text = await Deno.readTextFile(join(dir, "bets.csv"));
  return text.split("\n").filter((l) => l !== "").sort();
}

Deno.test("5 agencies on generated files: every bet stored once, each agency gets its own winners", async () => {
  await using dir = await tempDir("tp0-lottery-");
  const sizes = [150, 120, 90, 60, 30];
  const winners = [2, 0, 3, 1, 5];
  const expectedRows: string[] = [];
  const samples = sizes.map((size, i) =>
    sampleAgency(i + 1, size, winners[i]!, 42)
  );
  for (const [i, sample] of samples.entries()) {
    await Deno.writeTextFile(
      join(dir.path, `agency-${i + 1}.csv`),
      sample.lines.join("\n") + "\n",
    );
    for (const line of sample.lines) expectedRows.push(`${i + 1},${line}`);
  }
  await using central = new Central(join(dir.path, "storage"));
  const port = await central.ready();

  // Agencies 1-4 start; 5 is held back until agency 1 has seen a partial answer.
  const env = (k: number) => ({
    CLI_DATA_PATH: join(dir.path, `agency-${k}.csv`),
    CLI_BATCH_MAXAMOUNT: "7",
  });
  const early = [1, 2, 3, 4].map((k) => agency(k, port, env(k)));
  await early[0]!.stdout.waitFor(
    /action: consulta_total \| result: in_progress \| agencias_pendientes: [1-9]/,
  );
  await using late = agency(5, port, env(5));
  const all = [...early, late];
  for (const [i, program] of all.entries()) {
    assert.equal(await program.exit(), 0, `agency ${i + 1} exit code`);
    const line = await program.stdout.waitFor(
      /action: consulta_ganadores \| result: success/,
    );
    assert.equal(
      Number(field(line, "cant_ganadores")),
      winners[i],
      `agency ${i + 1} winners`,
    );
    const share = await program.stdout.waitFor(/action: porcentaje_ganadores/);
    assert.equal(
      field(share, "porcentaje"),
      (winners[i]! / sizes[i]!).toFixed(4),
    );
    const total = await program.stdout.waitFor(
      /action: consulta_total \| result: success/,
    );
    assert.equal(Number(field(total, "total_ganadores")), 11);
    assert.deepEqual(program.stdout.matching(/result: fail/), []);
  }
  for (const program of early) await program[Symbol.asyncDispose]();

  assert.deepEqual(await storedRows(central.storageDir), expectedRows.sort());
  assert.equal(
    central.stdout.matching(/action: sorteo \| result: success/).length,
    1,
  );
  const received = central.stdout.matching(
    /action: apuesta_recibida \| result: success/,
  );
  assert.equal(
    received.reduce((n, l) => n + Number(field(l, "cantidad")), 0),
    expectedRows.length,
  );
  assert.ok(received.every((l) => Number(field(l, "cantidad")) <= 7));
  const finished = central.stdout.matching(/action: agencia_finalizada/);
  assert.equal(finished.length, 5);
  const perAgency = await central.stdout.waitFor(
    /action: ganadores_por_agencia/,
  );
  for (const [i, n] of winners.entries()) {
    assert.equal(Number(field(perAgency, `agencia_${i + 1}`)), n);
  }
  assert.deepEqual(central.stdout.matching(/result: fail/), []);
});

Deno.test("the course dataset end to end: 78,697 rows stored, winners per agency right", async () => {
  await using dir = await tempDir("tp0-dataset-");
  const expected: number[] = [];
  let rows = 0;
  for (let k = 1; k <= 5; k++) {
    const lines = (await Deno.readTextFile(join(DATASET, `agency-${k}.csv`)))
      .split(/\r?\n/).filter((l) => l !== "");
    rows += lines.length;
    expected.push(lines.filter((l) => l.endsWith(",7574")).length);
  }
  assert.equal(rows, 78_697);
  await using central = new Central(dir.path);
  const port = await central.ready();
  const agencies = [1, 2, 3, 4, 5].map((k) =>
    agency(k, port, { CLI_DATA_PATH: join(DATASET, `agency-${k}.csv`) })
  );
  try {
    for (const [i, program] of agencies.entries()) {
      assert.equal(await program.exit(120_000), 0, `agency ${i + 1}`);
      const line = await program.stdout.waitFor(
        /action: consulta_ganadores \| result: success/,
      );
      assert.equal(
        Number(field(line, "cant_ganadores")),
        expected[i],
        `agency ${i + 1} winners`,
      );
    }
  } finally {
    for (const program of agencies) await program[Symbol.asyncDispose]();
  }
  const stored = (await storedRows(dir.path)).length;
  assert.equal(stored, 78_697);
  assert.equal(
    central.stdout.matching(/action: sorteo \| result: success/).length,
    1,
  );
});

Deno.test("an agency without its data file, or without a central, ends with one clear line and exit 1", async () => {
  await using dir = await tempDir("tp0-agency-fail-");
  await using central = new Central(dir.path);
  const port = await central.ready();
  await using noFile = agency(1, port, {
    CLI_DATA_PATH: join(dir.path, "missing.csv"),
  });
  assert.equal(await noFile.exit(), 1);
  const line = await noFile.stdout.waitFor(
    /action: lectura_apuestas \| result: fail/,
  );
  assert.match(
    line,
    /archivo: .*missing\.csv \| linea: 0 \| error: Cannot read bets from .*missing\.csv: the file cannot be opened \(NotFound\)/,
  );
  assert.deepEqual(noFile.stderr.all, []);

  // A port where nothing listens: bounded retries, then one line and exit 1.
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const data = join(dir.path, "one.csv");
  await Deno.writeTextFile(data, "Ana,Díaz,1,2000-01-01,5\n");
  await using unreachable = agency(1, deadPort, {
    CLI_DATA_PATH: data,
    CLI_RETRY_ATTEMPTS: "3",
  });
  assert.equal(await unreachable.exit(), 1);
  const fail = await unreachable.stdout.waitFor(/result: fail/);
  assert.match(
    fail,
    /action: lottery \| result: fail .*Cannot reach the central at 127\.0\.0\.1:\d+: 3 attempts failed/,
  );
  assert.equal(
    unreachable.stdout.matching(/action: reconnect \| result: in_progress/)
      .length,
    2,
  );
});

Deno.test("the echo stage: the skeleton's loop against the central, and a raw probe", async () => {
  await using dir = await tempDir("tp0-echo-");
  await using central = new Central(dir.path);
  const port = await central.ready();
  await using client = agency(3, port, {
    CLI_MODE: "echo",
    CLI_LOOP_AMOUNT: "3",
    CLI_LOOP_PERIOD: "50ms",
  });
  assert.equal(await client.exit(), 0);
  for (let k = 1; k <= 3; k++) {
    await client.stdout.waitFor(
      new RegExp(
        `action: receive_message \\| result: success \\| client_id: 3 \\| msg: \\[CLIENT 3\\] Message N°${k}$`,
      ),
    );
    await central.stdout.waitFor(
      new RegExp(
        `action: receive_message \\| result: success \\| ip: 127.0.0.1 \\| msg: \\[CLIENT 3\\] Message N°${k}$`,
      ),
    );
  }
  await client.stdout.waitFor(
    /action: loop_finished \| result: success \| client_id: 3/,
  );
  assert.match(
    client.stdout.all[0]!,
    /action: config \| result: success \| client_id: 3 \| server_address: 127.0.0.1:\d+ \| loop_amount: 3 \| loop_period: 50ms \| log_level: INFO$/,
  );

  // What netcat would send: text, a line feed, and the bytes come back unchanged.
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const probe = new TextEncoder().encode("¿echo? ok\n");
  await conn.write(probe);
  const answer = new Uint8Array(64);
  let n = 0;
  for (;;) {
    const read = await conn.read(answer.subarray(n));
    if (read === null) break;
    n += read;
  }
  assert.deepEqual(answer.subarray(0, n), probe);
});

Deno.test("the bet stage: the DNI the agency confirms is the one the central stores", async () => {
  await using dir = await tempDir("tp0-bet-");
  await using central = new Central(dir.path);
  const port = await central.ready();
  await using client = agency(2, port, { CLI_MODE: "bet", ...SAMPLE_BET });
  assert.equal(await client.exit(), 0);
  const sent = await client.stdout.waitFor(
    /action: apuesta_enviada \| result: success/,
  );
  const stored = await central.stdout.waitFor(
    /action: apuesta_almacenada \| result: success/,
  );
  assert.equal(field(sent, "dni"), "30904465");
  assert.equal(field(stored, "dni"), field(sent, "dni"));
  assert.equal(field(stored, "numero"), "7574");
  assert.equal(
    await Deno.readTextFile(join(dir.path, "bets.csv")),
    "2,Santiago Lionel,Lorca,30904465,1999-03-17,7574\n",
  );
});
