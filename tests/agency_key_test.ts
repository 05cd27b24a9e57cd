/**
 * The agency's key at the process level, against a fake central on
 * 127.0.0.1 that refuses the proof: the key is in no line the agency
 * prints, the refusal is one clear fail line, and the agency exits 1
 * without trying again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { agencyKey } from "../lib/agency_auth.ts";
import { BufferedReader } from "../protocol/buffered_reader.ts";
import { readFrame } from "../protocol/frame.ts";
import {
  decodeMessage,
  encodeMessage,
  isKnownMessageType,
} from "../protocol/messages.ts";
import { agencyProcess } from "../scripts/processes.ts";
import { agency, harnessKey, ROOT, tempDir } from "./harness.ts";

Deno.test("a refused key ends the agency with one fail line and exit 1; the key is never printed", async () => {
  await using dir = await tempDir("tp0-agency-key-");
  const data = join(dir.path, "one.csv");
  await Deno.writeTextFile(data, "Ana,Díaz,1,2000-01-01,5\n");
  const key = await agencyKey("the central's secret", 2);

  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const kinds: string[] = [];
  const central = (async () => {
    let connections = 0;
    for await (const conn of listener) {
      using _conn = conn;
      connections++;
      const reader = new BufferedReader(conn);
      const next = async () => {
        const frame = await readFrame(reader, {
          isKnownType: isKnownMessageType,
        });
        return frame === null ? null : decodeMessage(frame);
      };
      kinds.push((await next())?.kind ?? "close");
      const nonce = crypto.getRandomValues(new Uint8Array(32));
      await conn.write(encodeMessage({ kind: "challenge", nonce }));
      kinds.push((await next())?.kind ?? "close");
      await conn.write(encodeMessage({
        kind: "error",
        code: "unauthenticated",
        message: "Cannot serve agency 2: the proof does not hold",
      }));
      kinds.push((await next())?.kind ?? "close");
      return connections;
    }
    return connections;
  })();

  await using refused = agency(2, listener.addr.port, {
    CLI_DATA_PATH: data,
    CLI_AUTH_KEY: key,
    CLI_LOG_LEVEL: "DEBUG",
  });
  assert.equal(await refused.exit(), 1);
  assert.equal(await central, 1);
  assert.deepEqual(kinds, ["hello", "proof", "close"]);
  const all = [...refused.stdout.all, ...refused.stderr.all];
  assert.ok(all.some((line) => line.includes("action: config")));
  assert.ok(all.every((line) => !line.includes(key)), "no line has the key");
  const fails = refused.stdout.matching(/result: fail/);
  assert.equal(fails.length, 1);
  assert.match(
    fails[0]!,
    /action: lottery \| result: fail \| client_id: 2 \| error: Cannot continue: the central refused with unauthenticated: Cannot serve agency 2: the proof does not hold \(is auth\.key the key the central's secret gives agency 2\?\)$/,
  );
});

Deno.test("a key given as --auth-key (it would show in ps) is refused: one config line, exit 2", async () => {
  const key = harnessKey(1);
  await using flagged = agencyProcess(1, 9, {
    args: ["--auth-key", key],
    env: { CLI_AUTH_KEY: "" },
  });
  assert.equal(await flagged.exit(), 2);
  const all = [...flagged.stdout.all, ...flagged.stderr.all];
  assert.equal(all.length, 1, all.join("\n"));
  assert.ok(
    all[0]!.endsWith(
      "action: config | result: fail | error: Cannot load configuration: --auth-key is not accepted: a flag shows in `ps` to every user; set CLI_AUTH_KEY or auth.key in config.yaml",
    ),
    all[0],
  );
});

Deno.test("deno task agency-key K prints the key the secret gives agency K, and only that", async () => {
  const secret = "an operator's secret of more than 32 characters";
  const run = async (args: string[], env: Record<string, string>) => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "agency-key", ...args],
      cwd: ROOT,
      env,
      stdin: "null",
    }).output();
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code, out: text(stdout), err: text(stderr) };
  };
  const three = await run(["3"], { AUTH_SECRET: secret });
  assert.equal(three.code, 0, three.err);
  assert.equal(three.out, harnessKey(3, secret) + "\n");
  assert.equal(three.out.trim(), await agencyKey(secret, 3));
  const missing = await run(["3"], { AUTH_SECRET: "" });
  assert.equal(missing.code, 2);
  assert.match(
    missing.out,
    /action: config \| result: fail \| error: .*AUTH_SECRET is missing/,
  );
  const unknown = await run(["9"], { AUTH_SECRET: secret });
  assert.equal(unknown.code, 2);
  assert.match(unknown.out, /agency-key 9 is not an agency: AGENCIES is 5/);
  assert.ok(!unknown.out.includes(secret) && !missing.out.includes(secret));
});
