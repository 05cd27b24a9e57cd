/**
 * Tests of the central client against scripted centrals on 127.0.0.1.
 *
 * @module
 */
import assert from "node:assert/strict";
import { agencyKey, verifyProof } from "../lib/agency_auth.ts";
import { createLog } from "../lib/log.ts";
import { BatchBuilder } from "../protocol/batch_builder.ts";
import { BufferedReader } from "../protocol/buffered_reader.ts";
import { readFrame } from "../protocol/frame.ts";
import {
  decodeMessage,
  encodeMessage,
  type ErrorCodeName,
  isKnownMessageType,
  type Message,
  NONCE_SIZE,
} from "../protocol/messages.ts";
import type { BatchFrame } from "./bet_file.ts";
import { CentralClient, type ClientOptions } from "./central_client.ts";
import { CentralRefusedError } from "./central_refused_error.ts";

const SECRET = "a secret only the central knows";
const KEY = await agencyKey(SECRET, 1);
const HELLO = { agency: 1, total: 3, digest: new Uint8Array(32).fill(0x5a) };

/** A client of agency 1 with its key, its stream announced. */
function client(
  port: number,
  log = createLog("ERROR", () => {}),
  options: Partial<ClientOptions> = {},
): CentralClient {
  const client = new CentralClient(
    "127.0.0.1",
    port,
    log,
    new AbortController().signal,
    { key: KEY, ...options },
  );
  client.announce(HELLO);
  return client;
}

/** Reads one frame as a message, `null` when the peer closed. */
async function readMessage(reader: BufferedReader): Promise<Message | null> {
  const frame = await readFrame(reader, { isKnownType: isKnownMessageType });
  return frame === null ? null : decodeMessage(frame);
}

/** What the fake central saw of one handshake. */
interface Opening {
  readonly nonce: Uint8Array;
  readonly hello: Message | null;
  readonly proven: boolean;
}

/**
 * The central's side of the handshake: reads the hello, sends a fresh
 * nonce, checks the proof against agency 1's key, and welcomes the agency
 * or, with `refuse`, answers that error code instead.
 */
async function serveHandshake(
  conn: Deno.Conn,
  reader: BufferedReader,
  refuse?: ErrorCodeName,
): Promise<Opening> {
  const hello = await readMessage(reader);
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_SIZE));
  await conn.write(encodeMessage({ kind: "challenge", nonce }));
  const proof = await readMessage(reader);
  const proven = hello?.kind === "hello" && proof?.kind === "proof" &&
    await verifyProof(KEY, nonce, hello, proof.mac);
  await conn.write(encodeMessage(
    refuse === undefined
      ? { kind: "welcome", stored: 0 }
      : { kind: "error", code: refuse, message: "no" },
  ));
  return { nonce, hello, proven };
}

/** Three one-bet batch frames of agency 1. */
async function* threeBatches(): AsyncGenerator<BatchFrame> {
  const builder = new BatchBuilder(1, 1);
  const line = new TextEncoder().encode("Ana,Díaz,1,1990-01-01,7");
  for (let first = 0; first < 3; first++) {
    builder.tryAdd(line, 0, line.length);
    yield { frame: builder.take(first), first, count: 1 };
  }
}

/** Reads until the peer closes its side. */
async function drain(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(4096);
  try {
    while (await conn.read(buffer) !== null);
  } catch (error) {
    if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
  }
}

/**
 * Opens the connection, then acknowledges each batch read from `conn`, at
 * most `limit` of them; returns true when the peer closed, false when the
 * limit was reached. Records each handshake in `openings`.
 */
async function ackBatches(
  conn: Deno.Conn,
  openings: Opening[],
  limit = Infinity,
): Promise<boolean> {
  const reader = new BufferedReader(conn);
  openings.push(await serveHandshake(conn, reader));
  for (let acked = 0; acked < limit; acked++) {
    const message = await readMessage(reader);
    if (message === null) return true;
    assert.equal(message.kind, "batch");
    if (message.kind !== "batch") return true;
    await conn.write(encodeMessage({
      kind: "ack",
      first: message.first,
      count: message.count,
      duplicate: false,
    }));
  }
  return false;
}

/**
 * Serves `listener` as the central: the first connection with `first`,
 * the next ones by acknowledging every batch until the agency closes.
 * Returns how many connections came.
 */
async function serve(
  listener: Deno.Listener,
  openings: Opening[],
  first: (conn: Deno.Conn) => Promise<unknown>,
): Promise<number> {
  let connections = 0;
  for await (const conn of listener) {
    using _conn = conn;
    connections++;
    if (connections === 1) await first(conn);
    else if (await ackBatches(conn, openings)) return connections;
  }
  return connections;
}

Deno.test("batches left unanswered past the response timeout go again on a new connection", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const openings: Opening[] = [];
  // The first connection opens, takes the batches and never answers.
  const central = serve(listener, openings, async (conn) => {
    openings.push(await serveHandshake(conn, new BufferedReader(conn)));
    await drain(conn);
  });

  const acked: number[] = [];
  const started = performance.now();
  {
    using agency = client(listener.addr.port, undefined, {
      attempts: 3,
      initialBackoffMs: 10,
      responseTimeoutMs: 200,
    });
    await agency.sendBatches(threeBatches(), 8, (batch) => {
      acked.push(batch.first);
    });
  }
  assert.deepEqual(acked, [0, 1, 2]);
  assert.ok(performance.now() - started >= 190, "waited for the timeout");
  assert.equal(await central, 2);
  // Each connection opened with the announced hello and a proof of the
  // key for its own fresh nonce.
  assert.equal(openings.length, 2);
  for (const { hello, proven } of openings) {
    assert.deepEqual(hello, { kind: "hello", ...HELLO });
    assert.ok(proven);
  }
  assert.notDeepEqual(openings[0]!.nonce, openings[1]!.nonce);
});

Deno.test("busy from a central at its connection limit is retried after a pause", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const openings: Opening[] = [];
  // As the central's accept loop does past MAX_CONNECTIONS: busy, then close.
  const central = serve(listener, openings, async (conn) => {
    await conn.write(encodeMessage({
      kind: "error",
      code: "busy",
      message: "Cannot accept connection: the central is at its limit",
    }));
  });
  const lines: string[] = [];
  const acked: number[] = [];
  {
    using agency = client(
      listener.addr.port,
      createLog("WARNING", (line) => lines.push(line)),
      { attempts: 3, initialBackoffMs: 50 },
    );
    await agency.sendBatches(threeBatches(), 8, (batch) => {
      acked.push(batch.first);
    });
  }
  assert.deepEqual(acked, [0, 1, 2]);
  assert.equal(await central, 2);
  assert.equal(lines.length, 1, lines.join(""));
  assert.match(
    lines[0]!,
    /action: reconnect \| result: in_progress \| attempt: 1 \| delay_ms: 50 \| error: .*busy/,
  );
});

Deno.test("busy with a time to come back: waited for, past the attempts, up to the patience", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const openings: Opening[] = [];
  const busy = encodeMessage({
    kind: "error",
    code: "busy",
    message: "Cannot accept connection: a crowd",
    retryAfterMs: 40,
  });
  // Five refusals in a row, more than the two attempts allowed.
  const central = (async () => {
    let connections = 0;
    for await (const conn of listener) {
      using _conn = conn;
      if (++connections <= 5) await conn.write(busy);
      else if (await ackBatches(conn, openings)) return connections;
    }
  })();
  const lines: string[] = [];
  const started = performance.now();
  {
    using agency = client(
      listener.addr.port,
      createLog("WARNING", (line) => lines.push(line)),
      { attempts: 2, initialBackoffMs: 5_000 },
    );
    await agency.sendBatches(threeBatches(), 8, () => {});
  }
  assert.equal(await central, 6);
  assert.ok(performance.now() - started >= 5 * 20, "waited each time");
  assert.equal(lines.length, 5, lines.join(""));
  for (const line of lines) {
    assert.match(
      line,
      /action: reconnect \| result: in_progress \| busy_ms: \d+ \| delay_ms: (2\d|[3-5]\d|60) \| error: .*busy/,
    );
  }

  // Busy for longer than the patience: the agency gives up.
  using full = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const refusing = (async () => {
    for await (const conn of full) {
      using _conn = conn;
      await conn.write(busy);
    }
  })();
  using patient = client(full.addr.port, undefined, { busyPatienceMs: 150 });
  await assert.rejects(
    patient.sendBatches(threeBatches(), 8, () => {}),
    /Cannot reach the central at 127\.0\.0\.1:\d+: busy for \d+ ms/,
  );
  full.close();
  await refusing;
});

Deno.test("a connection lost after some acknowledgements, or in the handshake, starts a new series of attempts at 1", async () => {
  const cases: [
    string,
    (conn: Deno.Conn, openings: Opening[]) => Promise<unknown>,
  ][] = [
    // The first connection answers one batch, then hangs up.
    ["after an ack", (conn, openings) => ackBatches(conn, openings, 1)],
    // The first connection hangs up after the hello.
    ["in the handshake", (conn) => readMessage(new BufferedReader(conn))],
  ];
  for (const [name, first] of cases) {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const openings: Opening[] = [];
    const central = serve(listener, openings, (conn) => first(conn, openings));
    const lines: string[] = [];
    const acked: number[] = [];
    {
      using agency = client(
        listener.addr.port,
        createLog("DEBUG", (line) => lines.push(line)),
        { attempts: 2, initialBackoffMs: 10 },
      );
      await agency.sendBatches(threeBatches(), 8, (batch) => {
        acked.push(batch.first);
      });
    }
    assert.deepEqual(acked, [0, 1, 2], name);
    const reconnects = lines.filter((line) => /action: reconnect/.test(line));
    assert.equal(reconnects.length, 1, name);
    assert.match(
      reconnects[0]!,
      /action: reconnect \| result: in_progress \| attempt: 1 \|/,
    );
    assert.ok(lines.some((line) => /action: connect .*stored: 0/.test(line)));
    assert.ok(lines.every((line) => !line.includes(KEY)), name);
    assert.equal(await central, 2, name);
    assert.ok(openings.every((opening) => opening.proven), name);
  }
});

Deno.test("unauthenticated, forbidden and conflict end the run at once, with a clear error and no key in any line", async () => {
  for (const code of ["unauthenticated", "forbidden", "conflict"] as const) {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    let connections = 0;
    const central = (async () => {
      for await (const conn of listener) {
        using _conn = conn;
        connections++;
        await serveHandshake(conn, new BufferedReader(conn), code);
        await drain(conn);
      }
    })();
    const lines: string[] = [];
    {
      using agency = client(
        listener.addr.port,
        createLog("DEBUG", (line) => lines.push(line)),
        { attempts: 5, initialBackoffMs: 10 },
      );
      await assert.rejects(
        agency.sendBatches(threeBatches(), 8, () => {}),
        (e) =>
          e instanceof CentralRefusedError && e.code === code &&
          e.message.startsWith(
            `Cannot continue: the central refused with ${code}: no (`,
          ) && e.message.includes("agency 1") && !e.message.includes(KEY),
        code,
      );
    }
    listener.close();
    await central.catch((error) => {
      if (!(error instanceof Deno.errors.BadResource)) throw error;
    });
    assert.equal(connections, 1, `${code}: no second attempt`);
    assert.ok(lines.every((line) => !line.includes(KEY)), code);
  }
});

Deno.test("a client without a key or an announced stream refuses to connect", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  {
    using keyless = new CentralClient(
      "127.0.0.1",
      port,
      createLog("ERROR", () => {}),
      new AbortController().signal,
    );
    keyless.announce(HELLO);
    await assert.rejects(
      keyless.request(encodeMessage({ kind: "totalQuery", agency: 1 })),
      /Cannot open a connection: the agency has no key/,
    );
  }
  {
    using unannounced = new CentralClient(
      "127.0.0.1",
      port,
      createLog("ERROR", () => {}),
      new AbortController().signal,
      { key: KEY },
    );
    await assert.rejects(
      unannounced.request(encodeMessage({ kind: "totalQuery", agency: 1 })),
      /Cannot open a connection: no stream was announced/,
    );
  }
});
