/**
 * Tests of `generar-compose.sh` as a course machine runs it: bash and
 * Python 3, no Deno. The document it writes, its keys (equal to
 * lib/agency_auth.ts's), a branch's pinned stage, and its refusals.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { load as parseYaml } from "js-yaml";
import { agencyKey } from "../lib/agency_auth.ts";
import { ROOT, SAMPLE_BET } from "./harness.ts";

const SCRIPT = join(ROOT, "generar-compose.sh");

/** A directory holding only the tools the script needs (no Deno), the named ones left out. */
async function toolsDir(without: string[] = []): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "compose-tools-" });
  for (const tool of ["bash", "dirname", "sed", "tail", "cat", "python3"]) {
    if (without.includes(tool)) continue;
    // python3 itself, not a version manager's shim that needs more on PATH.
    const find = tool === "python3"
      ? `python3 -c "import sys; print(sys.executable)"`
      : `command -v ${tool}`;
    const which = await new Deno.Command("bash", { args: ["-c", find] })
      .output();
    const path = new TextDecoder().decode(which.stdout).trim();
    assert.ok(which.success, `${tool} is installed`);
    await Deno.symlink(path, join(dir, tool));
  }
  return dir;
}

/** Runs the script (in `dir`, a copy, when given) with only `tools` on PATH. */
async function generate(
  tools: string,
  args: string[],
  script = SCRIPT,
) {
  const { code, stdout, stderr } = await new Deno.Command(
    join(tools, "bash"),
    { args: [script, ...args], env: { PATH: tools }, clearEnv: true },
  ).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: text(stdout), stderr: text(stderr) };
}

/** The document the script should write for `clients` agencies. */
async function expected(
  clients: number,
  secret: string,
  mode?: string,
): Promise<unknown> {
  const services: Record<string, unknown> = {
    server: {
      container_name: "server",
      image: "server:latest",
      environment: {
        ...(clients > 0 ? { AGENCIES: String(clients) } : {}),
        AUTH_SECRET: secret,
      },
      volumes: ["./server/config.ini:/app/config.ini:ro", "/app/.storage"],
      networks: ["testing_net"],
      stop_grace_period: "10s",
      healthcheck: { interval: "2s", timeout: "5s", retries: 30 },
    },
  };
  for (let k = 1; k <= clients; k++) {
    services[`client${k}`] = {
      container_name: `client${k}`,
      image: "client:latest",
      environment: {
        CLI_ID: String(k),
        ...(mode === undefined ? {} : { CLI_MODE: mode }),
        CLI_AUTH_KEY: await agencyKey(secret, k),
        ...SAMPLE_BET,
        DOCUMENTO: String(Number(SAMPLE_BET.DOCUMENTO) + k - 1),
      },
      volumes: [
        "./client/config.yaml:/app/config.yaml:ro",
        `./.data/agency-${k}.csv:/data/agency.csv:ro`,
      ],
      networks: ["testing_net"],
      depends_on: { server: { condition: "service_healthy" } },
      stop_grace_period: "10s",
    };
  }
  return {
    services,
    networks: {
      testing_net: {
        name: "tp0_testing_net",
        ipam: { driver: "default", config: [{ subnet: "172.25.125.0/24" }] },
      },
    },
  };
}

type Document = {
  services: { server: { environment: { AUTH_SECRET: string } } };
};

Deno.test("generar-compose.sh without Deno: the document, the keys of lib/agency_auth.ts, every string quoted", async () => {
  const tools = await toolsDir();
  const out = await Deno.makeTempDir({ prefix: "compose-out-" });
  try {
    const secrets = new Set<string>();
    for (const clients of [0, 3, 3]) {
      const file = join(out, `compose-${clients}-${secrets.size}.yaml`);
      const run = await generate(tools, [file, String(clients)]);
      assert.equal(run.code, 0, run.stderr);
      const text = await Deno.readTextFile(file);
      const document = parseYaml(text) as Document;
      const secret = document.services.server.environment.AUTH_SECRET;
      assert.match(secret, /^[0-9a-f]{64}$/);
      secrets.add(secret);
      assert.deepEqual(document, await expected(clients, secret));
      // docker-compose 1.29 reads YAML 1.1: an unquoted 1999-03-17 is a date.
      // Strings are quoted; the one number is the health check's retries.
      for (const line of text.split("\n").filter((l) => l !== "")) {
        assert.match(
          line,
          /^ *(- )?([A-Za-z_0-9]+:( "[^"]*")?|"[^"]*"|retries: \d+)$/,
        );
      }
      assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    }
    assert.equal(secrets.size, 3, "a fresh secret per file");
  } finally {
    await Deno.remove(tools, { recursive: true });
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("generar-compose.sh: a branch's .exercise pins the agencies' stage; a bad pin, python3 missing or bad arguments are refused in a line", async () => {
  const tools = await toolsDir();
  const noPython = await toolsDir(["python3"]);
  const copy = await Deno.makeTempDir({ prefix: "compose-branch-" });
  try {
    const script = join(copy, "generar-compose.sh");
    await Deno.copyFile(SCRIPT, script);
    await Deno.mkdir(join(copy, ".data"));
    for (const k of [1, 2]) {
      await Deno.writeTextFile(join(copy, ".data", `agency-${k}.csv`), "");
    }
    const file = join(copy, "compose.yaml");
    await Deno.writeTextFile(
      join(copy, ".exercise"),
      "# pinned\nEXERCISE=ej5\nCLI_MODE=bet\n",
    );
    const pinned = await generate(tools, [file, "2"], script);
    assert.equal(pinned.code, 0, pinned.stderr);
    const document = parseYaml(await Deno.readTextFile(file)) as Document;
    const secret = document.services.server.environment.AUTH_SECRET;
    assert.deepEqual(document, await expected(2, secret, "bet"));

    await Deno.writeTextFile(join(copy, ".exercise"), "CLI_MODE=draw\n");
    const bad = await generate(tools, [file, "2"], script);
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr,
      'Cannot generate the compose file: .exercise has CLI_MODE="draw", not one of echo, bet, lottery\n',
    );

    const missing = await generate(noPython, [file, "1"]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /^Cannot generate the compose file: python3 is not installed[^\n]*\n$/,
    );

    for (const args of [[file], [file, "-1"], [file, "two"], ["", "1"]]) {
      const usage = await generate(tools, args);
      assert.equal(usage.code, 2, args.join(" "));
      assert.match(usage.stderr, /^usage: /);
    }
  } finally {
    for (const dir of [tools, noPython, copy]) {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("generar-compose.sh DATABASE=postgres CENTRALS=2: a database, two centrals on it, each agency listing both (its own first); refusals in a line", async () => {
  const tools = await toolsDir();
  const out = await Deno.makeTempDir({ prefix: "compose-out-" });
  const run = (env: Record<string, string>, file: string) =>
    new Deno.Command(join(tools, "bash"), {
      args: [SCRIPT, join(out, file), "3"],
      env: { PATH: tools, ...env },
      clearEnv: true,
    }).output();
  try {
    const made = await run({ DATABASE: "postgres", CENTRALS: "2" }, "pg.yaml");
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
    const document = parseYaml(
      await Deno.readTextFile(join(out, "pg.yaml")),
    ) as {
      services: Record<string, {
        image: string;
        environment: Record<string, string>;
        depends_on?: Record<string, unknown>;
      }>;
    };
    const { services } = document;
    assert.deepEqual(Object.keys(services), [
      "server",
      "server2",
      "database",
      "client1",
      "client2",
      "client3",
    ]);
    assert.equal(services.database!.image, "postgres:15");
    const password = services.database!.environment.POSTGRES_PASSWORD!;
    assert.match(password, /^[0-9a-f]{48}$/);
    for (const name of ["server", "server2"]) {
      assert.equal(
        services[name]!.environment.DATABASE_URL,
        `postgres://lottery:${password}@database:5432/lottery`,
      );
      assert.deepEqual(Object.keys(services[name]!.depends_on!), ["database"]);
    }
    assert.deepEqual(
      [1, 2, 3].map((k) =>
        services[`client${k}`]!.environment.CLI_SERVER_ADDRESS
      ),
      [
        "server:12345,server2:12345",
        "server2:12345,server:12345",
        "server:12345,server2:12345",
      ],
    );
    for (
      const [env, problem] of [
        [{ CENTRALS: "2" }, /CENTRALS=2 needs DATABASE=postgres/],
        [{ DATABASE: "mysql" }, /DATABASE is file or postgres/],
        [{ DATABASE: "postgres", CENTRALS: "0" }, /CENTRALS is a number/],
      ] as const
    ) {
      const refused = await run(env, "refused.yaml");
      assert.equal(refused.code, 2);
      assert.match(new TextDecoder().decode(refused.stderr), problem);
    }
    await assert.rejects(Deno.stat(join(out, "refused.yaml")));
  } finally {
    await Deno.remove(tools, { recursive: true });
    await Deno.remove(out, { recursive: true });
  }
});
