/**
 * Tests of the accept loop: failed accepts never end it, and a peer past
 * the connection limit is told `busy`.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ActionLog, Fields, Result } from "../../lib/log.ts";
import { BufferedReader } from "../../protocol/buffered_reader.ts";
import { readFrame } from "../../protocol/frame.ts";
import {
  decodeMessage,
  isKnownMessageType,
  type Response,
} from "../../protocol/messages.ts";
import { RETRY_AFTER_MS, serve, type ServeOptions } from "./accept_loop.ts";
import type { AdmissionLimits } from "./admission.ts";
import type { HoldLimits } from "./busy_door.ts";
import { Authenticator } from "./authenticator.ts";
import { FailureLog } from "./failure_log.ts";
import { openConnection } from "../../agency/handshake.ts";
import { agencyKey } from "../../lib/agency_auth.ts";
import { writeAll } from "../../lib/net.ts";

function recorder(): { log: ActionLog; lines: string[] } {
  const lines: string[] = [];
  const at = (action: string, result: Result, fields?: Fields) =>
    lines.push(`${action} ${result} ${JSON.stringify(fields ?? {})}`);
  return { lines, log: { debug: at, info: at, warning: at, error: at } };
}

function options(
  log: ActionLog,
  maxConnections = 16,
  admission?: AdmissionLimits & HoldLimits,
): ServeOptions {
  return {
    admission,
    handler: () => Promise.reject(new Error("no request expected")),
    backlogBytes: () => 0,
    log,
    idleTimeoutMs: 10_000,
    maxConnections,
    shutdownDeadlineMs: 1_000,
    opening: {
      authenticator: new Authenticator("a secret no peer of this test proves"),
      hello: () => Promise.reject(new Error("no hello expected")),
      failures: new FailureLog(log),
    },
  };
}

/** Room for one unproven connection; no grace, no hold, unless overridden. */
function oneUnproven(
  overrides: Partial<AdmissionLimits & HoldLimits> = {},
): AdmissionLimits & HoldLimits {
  return {
    perWorker: 1,
    perAddress: 1,
    graceMs: 0,
    holdMs: 0,
    maxHeld: 0,
    ...overrides,
  };
}

function coded(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

Deno.test("a failed accept, of a peer or for want of descriptors, never ends the loop", async () => {
  const failures: Error[] = [
    new Deno.errors.NotConnected(
      "Transport endpoint is not connected (os error 107)",
    ),
    new Deno.errors.ConnectionAborted("Software caused connection abort"),
    new Deno.errors.ConnectionReset("Connection reset by peer"),
    coded("Too many open files (os error 24)", "EMFILE"),
    coded("Too many open files in system (os error 23)", "ENFILE"),
    coded("Protocol error (os error 71)", "EPROTO"),
  ];
  const stop = new AbortController();
  let closed!: () => void;
  const whenClosed = new Promise<void>((resolve) => (closed = resolve));
  let accepts = 0;
  const listener = {
    accept(): Promise<Deno.Conn> {
      accepts++;
      const failure = failures.shift();
      if (failure !== undefined) return Promise.reject(failure);
      stop.abort();
      return whenClosed.then(() => {
        throw new Deno.errors.BadResource("Listener has been closed");
      });
    },
    close: () => closed(),
  } as unknown as Deno.Listener;
  const { log, lines } = recorder();
  await serve(listener, options(log), stop.signal);
  assert.equal(accepts, 7);
  const fails = lines.filter((l) => l.startsWith("accept_connections fail"));
  assert.equal(fails.length, 6, lines.join("\n"));
  assert.match(fails[0]!, /os error 107/);
  assert.ok(lines.includes("listener_closed success {}"));
});

/** Connects to `port` and waits until the loop has accepted the connection. */
async function accepted(port: number, lines: string[]): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const deadline = Date.now() + 5_000;
  while (!lines.some((l) => l.startsWith("accept_connections success"))) {
    assert.ok(Date.now() < deadline, "the first connection is accepted");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return conn;
}

/** Reads the one frame a refused or evicted peer gets, then the close. */
async function busyAnswer(conn: Deno.Conn) {
  const frame = await readFrame(new BufferedReader(conn), {
    isKnownType: isKnownMessageType,
  });
  assert.ok(frame !== null, "an answer before the close");
  const answer = decodeMessage(frame);
  assert.equal(await conn.read(new Uint8Array(1)), null, "then the close");
  return answer;
}

Deno.test("past the budget of unproven connections a peer is told busy, and when to come back", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  const stop = new AbortController();
  const { log, lines } = recorder();
  const limits = oneUnproven({ graceMs: 60_000 });
  const serving = serve(listener, options(log, 16, limits), stop.signal);
  using first = await accepted(port, lines);
  using second = await Deno.connect({ hostname: "127.0.0.1", port });
  // Its hello, sent before it reads the refusal, does not reset the refusal.
  await second.write(new Uint8Array(45).fill(6, 0, 1));
  assert.deepEqual(await busyAnswer(second), {
    kind: "error",
    code: "busy",
    message:
      "Cannot accept connection: 1 connections from 127.0.0.1 have not proven an agency, the limit per address is 1; try again later",
    retryAfterMs: RETRY_AFTER_MS,
  });
  assert.ok(first.remoteAddr);
  stop.abort();
  await serving;
});

Deno.test("a silent unproven connection past its grace is evicted for a newer one", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  const stop = new AbortController();
  const { log, lines } = recorder();
  const limits = oneUnproven();
  const serving = serve(listener, options(log, 16, limits), stop.signal);
  using first = await accepted(port, lines);
  using second = await Deno.connect({ hostname: "127.0.0.1", port });
  const answer = await busyAnswer(first);
  assert.ok(answer.kind === "error" && answer.code === "busy");
  assert.equal(answer.retryAfterMs, RETRY_AFTER_MS);
  assert.ok(second.remoteAddr);
  assert.deepEqual(lines.filter((l) => / fail /.test(l)), [], "no fail line");
  stop.abort();
  await serving;
});

Deno.test("a refused unproven peer is held, unread, before its busy; past the budget of holds, told at once", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  const stop = new AbortController();
  const { log, lines } = recorder();
  const limits = oneUnproven({ graceMs: 60_000, holdMs: 60_000, maxHeld: 1 });
  const serving = serve(listener, options(log, 16, limits), stop.signal);
  using _first = await accepted(port, lines);
  using held = await Deno.connect({ hostname: "127.0.0.1", port });
  await held.write(new Uint8Array(45).fill(6, 0, 1));
  const refused = /^accept_connections fail .*per address is 1/;
  const deadline = Date.now() + 5_000;
  while (!lines.some((l) => refused.test(l))) {
    assert.ok(Date.now() < deadline, "the second connection is refused");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // The one hold is taken: the next refused peer is told at once.
  using told = await Deno.connect({ hostname: "127.0.0.1", port });
  const answer = await busyAnswer(told);
  assert.ok(answer.kind === "error" && answer.code === "busy");
  // The held one has had no answer; the stop closes it without one.
  stop.abort();
  await serving;
  const buffer = new Uint8Array(64);
  const read = await held.read(buffer).catch((error) => {
    assert.ok(error instanceof Deno.errors.ConnectionReset, String(error));
    return null;
  });
  assert.equal(read, null, "no busy frame before the stop");
});

Deno.test("an evicted unproven peer is held before its busy", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  const stop = new AbortController();
  const { log, lines } = recorder();
  const limits = oneUnproven({ holdMs: 300, maxHeld: 4 });
  const serving = serve(listener, options(log, 16, limits), stop.signal);
  using first = await accepted(port, lines);
  const evictedAt = performance.now();
  using _second = await Deno.connect({ hostname: "127.0.0.1", port });
  const answer = await busyAnswer(first);
  assert.ok(answer.kind === "error" && answer.code === "busy");
  assert.ok(performance.now() - evictedAt >= 150, "held for the hold");
  stop.abort();
  await serving;
});

Deno.test("past MAX_CONNECTIONS proven agencies a newcomer is told busy; unproven ones never count", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  const stop = new AbortController();
  const { log } = recorder();
  const secret = "the secret of this test, long enough to derive keys";
  const serving = serve(listener, {
    ...options(log, 1),
    opening: {
      authenticator: new Authenticator(secret),
      hello: () =>
        Promise.resolve({
          messages: [{ kind: "welcome", stored: 0 }],
          close: false,
        }),
      failures: new FailureLog(log),
    },
  }, stop.signal);
  // A silent unproven connection first: it takes no agency's place.
  using _silent = await Deno.connect({ hostname: "127.0.0.1", port });
  using agency = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = new BufferedReader(agency);
  const stored = await openConnection(
    {
      send: (bytes) => writeAll(agency, bytes),
      receive: async () => {
        const frame = await readFrame(reader, {
          isKnownType: isKnownMessageType,
        });
        assert.ok(frame !== null);
        return decodeMessage(frame) as Response;
      },
    },
    { agency: 1, total: 0, digest: new Uint8Array(32) },
    await agencyKey(secret, 1),
  );
  assert.equal(stored, 0);
  using late = await Deno.connect({ hostname: "127.0.0.1", port });
  assert.deepEqual(await busyAnswer(late), {
    kind: "error",
    code: "busy",
    message:
      "Cannot accept connection: 1 agencies are connected, the limit is 1; try again later",
    retryAfterMs: RETRY_AFTER_MS,
  });
  stop.abort();
  await serving;
});
