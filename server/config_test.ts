/**
 * Tests of the central's configuration loader and command line.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ConfigError } from "../lib/config_error.ts";
import {
  centralHelp,
  KEYS,
  loadCentralConfig,
  MIN_SECRET_LENGTH,
  parseCentralArgs,
} from "./config.ts";

const SECRET = "a".repeat(MIN_SECRET_LENGTH);
const FILE = `[DEFAULT]
SERVER_PORT = 12345
SERVER_IP = server
SERVER_LISTEN_BACKLOG = 5
LOGGING_LEVEL = INFO
AUTH_SECRET = ${SECRET}
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
    storageDir: ".storage",
    maxConnections: 1024,
    idleTimeoutMs: 30_000,
    authSecret: SECRET,
    metricsPort: 0,
    databaseUrl: "",
  });
});

Deno.test("DATABASE_URL: from the environment or config.ini, never a flag, checked without being quoted", () => {
  const url = "postgres://lottery:s3cret@db1:5432,db2:5432/lottery";
  assert.equal(loadCentralConfig(FILE, { DATABASE_URL: url }).databaseUrl, url);
  assert.equal(
    loadCentralConfig(FILE + `DATABASE_URL = host=db1 dbname=x\n`, {})
      .databaseUrl,
    "host=db1 dbname=x",
  );
  assert.throws(
    () => parseCentralArgs(["--database-url", url]),
    ConfigError,
  );
  assert.throws(
    () => loadCentralConfig(FILE, { DATABASE_URL: "s3cret-nonsense" }),
    (e: unknown) =>
      e instanceof ConfigError && e.key === "DATABASE_URL" &&
      !e.message.includes("s3cret"),
  );
  assert.match(centralHelp(), /DATABASE_URL/);
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
      `[DEFAULT]\nSERVER_IP=a\nSERVER_LISTEN_BACKLOG=5\nLOGGING_LEVEL=INFO\nAUTH_SECRET=${SECRET}\n`,
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

Deno.test("no AUTH_SECRET, or a short one, is refused: the central never runs open", () => {
  const without = FILE.replace(/^AUTH_SECRET.*\n/m, "");
  assert.throws(
    () => loadCentralConfig(without, {}),
    (e) =>
      e instanceof ConfigError && e.key === "AUTH_SECRET" &&
      /AUTH_SECRET is missing .*never runs without authentication/.test(
        e.message,
      ),
  );
  assert.throws(() => loadCentralConfig(FILE, { AUTH_SECRET: "" }), /missing/);
  const short = "s3cr3t-".repeat(4);
  assert.throws(
    () => loadCentralConfig(without, { AUTH_SECRET: short }),
    (e) =>
      e instanceof ConfigError &&
      /AUTH_SECRET is 28 characters long, shorter than 32/.test(e.message) &&
      !e.message.includes(short),
  );
  const secret = "b".repeat(64);
  assert.equal(
    loadCentralConfig(without, { AUTH_SECRET: secret }).authSecret,
    secret,
  );
  // No flag: a secret on the command line shows in `ps`.
  assert.throws(
    () => parseCentralArgs(["--auth-secret", secret]),
    /--auth-secret is not a known option/,
  );
});

Deno.test("the command line: worker sub-command, unknown flags refused", () => {
  assert.equal(parseCentralArgs([]).configPath, "./config.ini");
  assert.equal(parseCentralArgs(["worker"]).worker, true);
  assert.equal(parseCentralArgs(["worker"]).agencyKey, null);
  assert.equal(parseCentralArgs(["agency-key", "3"]).agencyKey, 3);
  assert.throws(() => parseCentralArgs(["agency-key"]), /needs one agency id/);
  assert.throws(
    () => parseCentralArgs(["agency-key", "x"]),
    /agency-key "x" is not an integer/,
  );
  assert.throws(() => parseCentralArgs(["--nope"]), ConfigError);
  assert.throws(
    () => parseCentralArgs(["serve"]),
    /unexpected argument "serve"/,
  );
});

Deno.test("health and status: sub-commands that read no secret; --json is status's", () => {
  assert.equal(parseCentralArgs(["health"]).tool, "health");
  const status = parseCentralArgs(["status", "--json", "--storage-dir", "d"]);
  assert.equal(status.tool, "status");
  assert.equal(status.json, true);
  assert.equal(status.overrides.STORAGE_DIR, "d");
  assert.equal(parseCentralArgs([]).tool, null);
  assert.throws(() => parseCentralArgs(["--json"]), /--json is an option of/);
  assert.throws(() => parseCentralArgs(["health", "x"]), /unexpected argument/);
  const noSecret = FILE.replace(/^AUTH_SECRET.*$/m, "");
  assert.throws(() => loadCentralConfig(noSecret, {}), /AUTH_SECRET/);
  assert.equal(loadCentralConfig(noSecret, {}, {}, false).authSecret, "");
});

Deno.test("METRICS_PORT: off by default, a port from any source, checked", () => {
  assert.equal(loadCentralConfig(FILE, {}).metricsPort, 0);
  assert.equal(
    loadCentralConfig(FILE + "METRICS_PORT = 9100\n", {}).metricsPort,
    9100,
  );
  assert.equal(
    loadCentralConfig(FILE, { METRICS_PORT: "9101" }, { METRICS_PORT: "9102" })
      .metricsPort,
    9102,
  );
  assert.equal(
    parseCentralArgs(["--metrics-port", "9103"]).overrides.METRICS_PORT,
    "9103",
  );
  assert.throws(
    () => loadCentralConfig(FILE, { METRICS_PORT: "70000" }),
    /METRICS_PORT/,
  );
  assert.match(centralHelp(), /METRICS_PORT +METRICS_PORT +--metrics-port +0 /);
});

Deno.test("the course's config.ini, exactly its four keys, loads", () => {
  const course =
    "[DEFAULT]\nSERVER_PORT = 12345\nSERVER_IP = server\nSERVER_LISTEN_BACKLOG = 8\nLOGGING_LEVEL = DEBUG";
  const config = loadCentralConfig(course, { AUTH_SECRET: SECRET });
  assert.equal(config.listenBacklog, 8);
  assert.equal(config.storageDir, ".storage");
});

Deno.test("unknown keys and a missing [DEFAULT] are refused, every key named at once", () => {
  assert.throws(
    () => loadCentralConfig(FILE + "SERVR_PORT = 1\nWORKER = 3\n", {}),
    (e) =>
      e instanceof ConfigError && e.key === "SERVR_PORT, WORKER" &&
      /SERVR_PORT, WORKER are not keys of config.ini's \[DEFAULT\]/.test(
        e.message,
      ),
  );
  assert.throws(
    () => loadCentralConfig(FILE + "[extra]\nA = 1\n", {}),
    (e) =>
      e instanceof ConfigError && e.key === "[extra]" &&
      /\[extra\] is not a section the central reads \(it reads \[DEFAULT\] only\)$/
        .test(e.message),
  );
  // Only another section: both the missing [DEFAULT] and it are named.
  assert.throws(
    () => loadCentralConfig("[OTHER]\nSERVER_PORT = 1\n", {}),
    (e) =>
      e instanceof ConfigError && e.key.startsWith("[OTHER], [DEFAULT], ") &&
      /\[OTHER\] is not a section the central reads.*; \[DEFAULT\] section is missing/
        .test(e.message),
  );
  // A key given twice is refused, naming it, whichever value would win.
  for (
    const again of ["SERVER_PORT = 2\n", "[DEFAULT]\nSERVER_PORT = 12345\n"]
  ) {
    assert.throws(
      () => loadCentralConfig(FILE + again, {}),
      (e) =>
        e instanceof ConfigError && e.key === "SERVER_PORT" &&
        /SERVER_PORT is given twice in \[DEFAULT\] of config.ini/.test(
          e.message,
        ),
      again,
    );
  }
  assert.throws(
    () =>
      loadCentralConfig(
        "SERVER_PORT = 1\nSERVER_IP = a\nSERVER_LISTEN_BACKLOG = 1\nLOGGING_LEVEL = INFO\n",
        {},
      ),
    /\[DEFAULT\] section is missing from config.ini/,
  );
  // A typo and a bad value: one message names both.
  assert.throws(
    () =>
      loadCentralConfig(FILE + "AGENCYS = 3\n", {
        WORKERS: "0",
        LOGGING_LEVEL: "LOUD",
      }),
    (e) =>
      e instanceof ConfigError &&
      e.key === "AGENCYS, LOGGING_LEVEL, WORKERS" &&
      /AGENCYS is not a key.*; LOGGING_LEVEL "LOUD" is not one of .*; WORKERS 0 is not between 1 and 64$/
        .test(e.message),
  );
});

Deno.test("--help lists every key with its flag and default; --version", () => {
  const args = parseCentralArgs(["--port", "1", "--help", "nonsense"]);
  assert.equal(args.help, true);
  assert.equal(parseCentralArgs(["-V"]).version, true);
  const help = centralHelp();
  for (const [key, spec] of Object.entries(KEYS)) {
    const row = help.split("\n").find((line) => line.trim().startsWith(key));
    const flag = "flag" in spec ? `--${spec.flag}` : "(none)";
    assert.ok(row?.includes(flag), `${key}: ${flag}`);
    const fallback = "fallback" in spec ? spec.fallback : "(required)";
    assert.ok(row?.includes(fallback), `${key}: ${fallback}`);
  }
});
