/**
 * Tests of the agency's configuration loader and command line.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ConfigError } from "../lib/config_error.ts";
import {
  agencyHelp,
  KEYS,
  loadAgencyConfig,
  parseAgencyArgs,
} from "./config.ts";

const KEY = "eaa61f84628744e520fdd26b4d0a67e4b4c3bc6eae8b32c301ccba149669c965";

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

Deno.test("config.yaml with CLI_ID, defaults for mode and data path", () => {
  const config = loadAgencyConfig(FILE, { CLI_ID: "3", CLI_AUTH_KEY: KEY });
  assert.deepEqual(config, {
    id: 3,
    serverAddress: "server:12345",
    addresses: [{ hostname: "server", port: 12345 }],
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
    authKey: KEY,
    drawTimeoutNs: 600e9,
  });
  assert.equal(
    (loadAgencyConfig(
      "server: {address: 'a:1'}\nloop: {amount: 1, period: 1s}\nlog: {level: INFO}",
      { CLI_ID: "1", CLI_AUTH_KEY: KEY },
    )).batchMaxAmount,
    160,
  );
});

Deno.test("server.address: one host:port, or several comma-separated (each checked)", () => {
  const env = { CLI_ID: "1", CLI_AUTH_KEY: KEY };
  const config = loadAgencyConfig(FILE, {
    ...env,
    CLI_SERVER_ADDRESS: "central1:12345, 10.0.0.2:12346,[::1]:7",
  });
  assert.deepEqual(config.addresses, [
    { hostname: "central1", port: 12345 },
    { hostname: "10.0.0.2", port: 12346 },
    { hostname: "::1", port: 7 },
  ]);
  assert.equal(config.hostname, "central1");
  assert.throws(
    () => loadAgencyConfig(FILE, { ...env, CLI_SERVER_ADDRESS: "a:1,b" }),
    /server.address "b" is not host:port/,
  );
  assert.throws(
    () => loadAgencyConfig(FILE, { ...env, CLI_SERVER_ADDRESS: "a:1,b:99999" }),
    /server.address/,
  );
});

Deno.test("flags over CLI_ environment over file", () => {
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
  const config = loadAgencyConfig(FILE, env, args.overrides);
  assert.equal(config.loopAmount, 9);
  assert.equal(config.loopPeriodNs, 100e6);
  assert.equal(config.batchMaxAmount, 64);
  assert.equal(config.mode, "echo");
  assert.equal(config.port, 9000);
  assert.equal(config.logLevel, "DEBUG");
  assert.equal(config.dataPath, "/x.csv");
});

Deno.test("the bet stage takes its bet from NOMBRE … NUMERO and validates it", () => {
  const env = {
    CLI_ID: "2",
    CLI_MODE: "bet",
    CLI_AUTH_KEY: KEY,
    NOMBRE: "Santiago Lionel",
    APELLIDO: "Lorca",
    DOCUMENTO: "30904465",
    NACIMIENTO: "1999-03-17",
    NUMERO: "7574",
  };
  assert.deepEqual((loadAgencyConfig(FILE, env)).bet, {
    firstName: "Santiago Lionel",
    lastName: "Lorca",
    document: "30904465",
    birthdate: "1999-03-17",
    number: "7574",
  });
  assert.throws(
    () => loadAgencyConfig(FILE, { ...env, NUMERO: "" }),
    /NUMERO is missing/,
  );
  assert.throws(
    () => loadAgencyConfig(FILE, { ...env, NACIMIENTO: "1999-02-30" }),
    /NACIMIENTO is invalid/,
  );
  assert.throws(
    () => loadAgencyConfig(FILE, { ...env, DOCUMENTO: "3O9" }),
    /DOCUMENTO is invalid/,
  );
});

Deno.test("auth.key: CLI_ environment over file; draw.timeout: flag over both", () => {
  const other = "0".repeat(64);
  const file =
    `${FILE}auth:\n  key: "${KEY.toUpperCase()}"\ndraw:\n  timeout: 90s\n`;
  const fromFile = loadAgencyConfig(file, { CLI_ID: "1" });
  assert.equal(fromFile.authKey, KEY, "lowercased");
  assert.equal(fromFile.drawTimeoutNs, 90e9);
  const env = { CLI_ID: "1", CLI_AUTH_KEY: other, CLI_DRAW_TIMEOUT: "2m" };
  const fromEnv = loadAgencyConfig(file, env);
  assert.equal(fromEnv.authKey, other);
  assert.equal(fromEnv.drawTimeoutNs, 120e9);
  const args = parseAgencyArgs(["--draw-timeout", "1s"]);
  const fromFlags = loadAgencyConfig(file, env, args.overrides);
  assert.equal(fromFlags.authKey, other);
  assert.equal(fromFlags.drawTimeoutNs, 1e9);
  // Echo mode sends no frame and needs no key.
  const echo = loadAgencyConfig(FILE, { CLI_ID: "1", CLI_MODE: "echo" });
  assert.equal(echo.authKey, null);
});

Deno.test("the key as a flag (it would show in ps) is refused, naming where it goes", () => {
  for (
    const argv of [[`--auth-key=${KEY}`], ["--id", "1", "--auth-key", KEY]]
  ) {
    assert.throws(
      () => parseAgencyArgs(argv),
      (e) =>
        e instanceof ConfigError && e.key === "--auth-key" &&
        /set CLI_AUTH_KEY or auth.key in config.yaml/.test(e.message) &&
        !e.message.includes(KEY),
    );
  }
  assert.doesNotMatch(agencyHelp(), /--auth-key/);
});

Deno.test("a missing or malformed auth.key is refused without quoting it", () => {
  assert.throws(
    () => loadAgencyConfig(FILE, { CLI_ID: "1" }),
    /auth.key is missing \(set it in config.yaml or as CLI_AUTH_KEY\)$/,
  );
  for (const bad of [KEY.slice(1), KEY + "0", KEY.replace("e", "g")]) {
    assert.throws(
      () => loadAgencyConfig(FILE, { CLI_ID: "1", CLI_AUTH_KEY: bad }),
      (e) =>
        e instanceof ConfigError && e.key === "auth.key" &&
        /is not an agency key: 64 hex digits/.test(e.message) &&
        !e.message.includes(bad.slice(8, 40)),
    );
  }
  assert.throws(
    () =>
      loadAgencyConfig(FILE, {
        CLI_ID: "1",
        CLI_AUTH_KEY: KEY,
        CLI_DRAW_TIMEOUT: "-1m",
      }),
    /draw.timeout "-1m" is negative/,
  );
});

Deno.test("bad or missing values name their key", () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      FILE,
      {},
      /id is missing \(set it in config.yaml, as CLI_ID or with --id\)/,
    ],
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
    assert.throws(
      () => loadAgencyConfig(file, env),
      (e) => e instanceof ConfigError && message.test(e.message),
      String(message),
    );
  }
  assert.throws(() => parseAgencyArgs(["extra"]), ConfigError);
});

Deno.test("the course's config.yaml, exactly its five keys (and mode), loads", () => {
  const course =
    'server:\n  address: "server:12345"\nloop:\n  amount: 3\n  period: "50ms"\nlog:\n  level: "INFO"\nbatch:\n  maxAmount: 10\n';
  const config = loadAgencyConfig(course, { CLI_ID: "1", CLI_AUTH_KEY: KEY });
  assert.equal(config.batchMaxAmount, 10);
  assert.equal(config.loopPeriodNs, 50e6);
  assert.equal(
    loadAgencyConfig(course + 'mode: "echo"\n', {
      CLI_ID: "1",
      CLI_AUTH_KEY: KEY,
    }).mode,
    "echo",
  );
  // The image sets CLI_DATA_PATH where compose mounts the file.
  assert.equal(
    loadAgencyConfig(course, {
      CLI_ID: "1",
      CLI_AUTH_KEY: KEY,
      CLI_DATA_PATH: "/data/agency.csv",
    })
      .dataPath,
    "/data/agency.csv",
  );
});

Deno.test("flat dotted keys are read as the nested ones; both forms must agree", () => {
  const env = { CLI_ID: "1", CLI_AUTH_KEY: KEY };
  // All flat, as a user may write them.
  const flat = loadAgencyConfig(
    'server.address: "x:1"\nloop.amount: 2\nloop.period: "50ms"\nlog.level: DEBUG\nbatch.maxAmount: 64\n',
    env,
  );
  assert.equal(flat.serverAddress, "x:1");
  assert.equal(flat.loopAmount, 2);
  assert.equal(flat.loopPeriodNs, 50e6);
  assert.equal(flat.logLevel, "DEBUG");
  assert.equal(flat.batchMaxAmount, 64);
  // A flat key beside nested ones.
  assert.equal(
    loadAgencyConfig(FILE + "batch.maxAmount: 10\nauth.key: " + KEY + "\n", {
      CLI_ID: "1",
    }).authKey,
    KEY,
  );
  assert.equal(
    loadAgencyConfig(
      FILE.replace("batch:\n  maxAmount: 10\n", "") +
        "batch.maxAmount: 64\n",
      env,
    ).batchMaxAmount,
    64,
  );
  // Both forms with different values: refused, naming the key.
  assert.throws(
    () => loadAgencyConfig(FILE + "batch.maxAmount: 64\n", env),
    (e) =>
      e instanceof ConfigError && e.key === "batch.maxAmount" &&
      /batch.maxAmount is given twice in config.yaml, flat and nested, with different values/
        .test(e.message),
  );
});

Deno.test("unknown keys are refused, every wrong key named in one message", () => {
  assert.throws(
    () =>
      loadAgencyConfig(FILE + "bacth:\n  maxAmount: 3\nlog2: x\n", {
        CLI_ID: "1",
        CLI_AUTH_KEY: KEY,
      }),
    (e) =>
      e instanceof ConfigError && e.key === "bacth, log2" &&
      /bacth, log2 are not keys of config.yaml/.test(e.message),
  );
  assert.throws(
    () =>
      loadAgencyConfig(
        'server:\n  adress: "a:1"\nloop:\n  amount: 1\n  period: 1s\nlog:\n  level: INFO\n',
        { CLI_MODE: "race" },
      ),
    (e) =>
      e instanceof ConfigError &&
      e.key === "server.adress, id, server.address, mode" &&
      /server.adress is not a key of config.yaml .*; id is missing .*; server.address is missing .*; mode "race" is not one of/
        .test(e.message),
  );
  // A group written as a single value is a wrong key too.
  assert.throws(
    () =>
      loadAgencyConfig(FILE + "data: x\n", { CLI_ID: "1", CLI_AUTH_KEY: KEY }),
    /data is not a key of config.yaml/,
  );
});

Deno.test("--help lists every key with its env var, flag and default; --version", () => {
  assert.equal(parseAgencyArgs(["--id", "1", "-h", "stray"]).help, true);
  assert.equal(parseAgencyArgs(["--version"]).version, true);
  const help = agencyHelp().split("\n");
  for (const spec of Object.values(KEYS)) {
    const key = spec.path.join(".");
    const row = help.find((line) => line.trim().startsWith(key + " "));
    const flag = "flag" in spec ? `--${spec.flag}` : "(none)";
    assert.ok(row?.includes(spec.env) && row.includes(flag), key);
    const fallback = "fallback" in spec ? spec.fallback : "(required)";
    assert.ok(row?.includes(fallback), `${key}: ${fallback}`);
  }
});
