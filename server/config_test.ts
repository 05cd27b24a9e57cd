import assert from "node:assert/strict";
import { ConfigError } from "../lib/config_error.ts";
import { loadCentralConfig, parseCentralArgs } from "./config.ts";

const FILE = `[DEFAULT]
SERVER_PORT = 12345
SERVER_IP = server
SERVER_LISTEN_BACKLOG = 5
LOGGING_LEVEL = INFO
`;

Deno.test("config.ini alone, with documented defaults", () => {
  assert.deepEqual(loadCentralConfig(FILE, {}), {
    port: 12345,
    serverIp: "server",
    listenIp: "0.0.0.0",
    listenBacklog: 5,
    loggingLevel: "INFO",
    agencies: 5,
    workers: 2,
    storageDir: ".",
    maxConnections: 1024,
    idleTimeoutMs: 30_000,
  });
});

Deno.test("flags over environment over file over defaults", () => {
  const env = { SERVER_PORT: "2000", WORKERS: "4", LOGGING_LEVEL: "debug" };
  const file = FILE + "AGENCIES = 3\nWORKERS = 3\n";
  const args = parseCentralArgs(["--port", "3000", "--config", "x.ini"]);
  assert.equal(args.configPath, "x.ini");
  const config = loadCentralConfig(file, env, args.overrides);
  assert.equal(config.port, 3000);
  assert.equal(config.workers, 4);
  assert.equal(config.agencies, 3);
  assert.equal(config.loggingLevel, "DEBUG");
});

Deno.test("bad or missing values name their key", () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "[DEFAULT]\nSERVER_IP=a\nSERVER_LISTEN_BACKLOG=5\nLOGGING_LEVEL=INFO\n",
      {},
      /SERVER_PORT is missing/,
    ],
    [FILE, { SERVER_PORT: "abc" }, /SERVER_PORT "abc" is not an integer/],
    [
      FILE,
      { SERVER_PORT: "70000" },
      /SERVER_PORT 70000 is not between 0 and 65535/,
    ],
    [FILE, { WORKERS: "0" }, /WORKERS 0 is not between 1 and 64/],
    [FILE, { AGENCIES: "-2" }, /AGENCIES -2 is not between/],
    [FILE, { LOGGING_LEVEL: "LOUD" }, /LOGGING_LEVEL "LOUD" is not one of/],
    [FILE, { IDLE_TIMEOUT: "soon" }, /IDLE_TIMEOUT Cannot parse duration/],
  ];
  for (const [file, env, message] of cases) {
    assert.throws(
      () => loadCentralConfig(file, env),
      (e) => e instanceof ConfigError && message.test(e.message),
      String(message),
    );
  }
});

Deno.test("the command line: worker sub-command, unknown flags refused", () => {
  assert.equal(parseCentralArgs([]).configPath, "./config.ini");
  assert.equal(parseCentralArgs(["worker"]).worker, true);
  assert.throws(() => parseCentralArgs(["--nope"]), ConfigError);
  assert.throws(
    () => parseCentralArgs(["serve"]),
    /unexpected argument "serve"/,
  );
});
