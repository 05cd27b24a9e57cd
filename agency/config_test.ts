import assert from "node:assert/strict";
import { ConfigError } from "../lib/config_error.ts";
import { loadAgencyConfig, parseAgencyArgs } from "./config.ts";

const FILE = `
server:
  address: "server:12345"
loop:
  amount: 5
  period: "5s"
log:
  level: "INFO"
batch:
  maxAmount: 10
`;

Deno.test("config.yaml with CLI_ID, defaults for mode and data path", async () => {
  const config = await loadAgencyConfig(FILE, { CLI_ID: "3" });
  assert.deepEqual(config, {
    id: 3,
    serverAddress: "server:12345",
    hostname: "server",
    port: 12345,
    loopAmount: 5,
    loopPeriodNs: 5e9,
    logLevel: "INFO",
    batchMaxAmount: 10,
    mode: "lottery",
    dataPath: "./agency.csv",
    retryAttempts: 12,
    bet: null,
  });
  assert.equal(
    (await loadAgencyConfig(
      "server: {address: 'a:1'}\nloop: {amount: 1, period: 1s}\nlog: {level: INFO}",
      { CLI_ID: "1" },
    )).batchMaxAmount,
    160,
  );
});

Deno.test("flags over CLI_ environment over file", async () => {
  const env = {
    CLI_ID: "1",
    CLI_LOOP_AMOUNT: "7",
    CLI_LOOP_PERIOD: "100ms",
    CLI_BATCH_MAXAMOUNT: "64",
    CLI_MODE: "echo",
    CLI_SERVER_ADDRESS: "127.0.0.1:9000",
    CLI_LOG_LEVEL: "debug",
  };
  const args = parseAgencyArgs(["--loop-amount", "9", "--data-path", "/x.csv"]);
  const config = await loadAgencyConfig(FILE, env, args.overrides);
  assert.equal(config.loopAmount, 9);
  assert.equal(config.loopPeriodNs, 100e6);
  assert.equal(config.batchMaxAmount, 64);
  assert.equal(config.mode, "echo");
  assert.equal(config.port, 9000);
  assert.equal(config.logLevel, "DEBUG");
  assert.equal(config.dataPath, "/x.csv");
});

Deno.test("the bet stage takes its bet from NOMBRE … NUMERO and validates it", async () => {
  const env = {
    CLI_ID: "2",
    CLI_MODE: "bet",
    NOMBRE: "Santiago Lionel",
    APELLIDO: "Lorca",
    DOCUMENTO: "30904465",
    NACIMIENTO: "1999-03-17",
    NUMERO: "7574",
  };
  assert.deepEqual((await loadAgencyConfig(FILE, env)).bet, {
    firstName: "Santiago Lionel",
    lastName: "Lorca",
    document: "30904465",
    birthdate: "1999-03-17",
    number: "7574",
  });
  await assert.rejects(
    () => loadAgencyConfig(FILE, { ...env, NUMERO: "" }),
    /NUMERO is missing/,
  );
  await assert.rejects(
    () => loadAgencyConfig(FILE, { ...env, NACIMIENTO: "1999-02-30" }),
    /NACIMIENTO is invalid/,
  );
  await assert.rejects(
    () => loadAgencyConfig(FILE, { ...env, DOCUMENTO: "3O9" }),
    /DOCUMENTO is invalid/,
  );
});

Deno.test("bad or missing values name their key", async () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [FILE, {}, /id is missing \(set it in config.yaml or as CLI_ID\)/],
    [FILE, { CLI_ID: "0" }, /id 0 is not between 1/],
    [FILE, { CLI_ID: "x" }, /id "x" is not an integer/],
    [
      FILE,
      { CLI_ID: "1", CLI_LOOP_PERIOD: "5" },
      /loop.period Cannot parse duration "5"/,
    ],
    [
      FILE,
      { CLI_ID: "1", CLI_LOOP_PERIOD: "-1s" },
      /loop.period "-1s" is negative/,
    ],
    [
      FILE,
      { CLI_ID: "1", CLI_SERVER_ADDRESS: "server" },
      /server.address "server" is not host:port/,
    ],
    [
      FILE,
      { CLI_ID: "1", CLI_BATCH_MAXAMOUNT: "0" },
      /batch.maxAmount 0 is not between 1 and 65535/,
    ],
    [
      FILE,
      { CLI_ID: "1", CLI_MODE: "race" },
      /mode "race" is not one of echo, bet, lottery/,
    ],
    [FILE, { CLI_ID: "1", CLI_LOG_LEVEL: "LOUD" }, /log.level "LOUD"/],
    ["loop: [1, 2", { CLI_ID: "1" }, /config.yaml cannot be parsed/],
    ["- a\n- b\n", { CLI_ID: "1" }, /config.yaml must be a mapping/],
  ];
  for (const [file, env, message] of cases) {
    await assert.rejects(
      () => loadAgencyConfig(file, env),
      (e) => e instanceof ConfigError && message.test(e.message),
      String(message),
    );
  }
  assert.throws(() => parseAgencyArgs(["extra"]), ConfigError);
});
