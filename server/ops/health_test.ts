/**
 * Tests of the health probe against peers that are not a healthy central:
 * nothing listening, a peer that closes, a peer that never answers, one
 * that refuses. (A real central is probed in tests/ops_test.ts.)
 *
 * @module
 */
import assert from "node:assert/strict";
import { encodeMessage } from "../../protocol/messages.ts";
import { probeAddress, probeHealth } from "./health.ts";

/** A listener on 127.0.0.1 whose connections `serve` handles. */
function peer(serve: (conn: Deno.Conn) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const done = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      await serve(conn);
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch (error) {
          if (!(error instanceof Deno.errors.BadResource)) throw error;
        }
      }
      await done;
    },
  };
}

Deno.test("the probe's address: the loopback for a central on every address", () => {
  assert.equal(probeAddress("0.0.0.0"), "127.0.0.1");
  assert.equal(probeAddress("::"), "::1");
  assert.equal(probeAddress("10.0.0.7"), "10.0.0.7");
});

Deno.test("nothing listening: unhealthy, in one line", async () => {
  const port = (() => {
    using l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    return (l.addr as Deno.NetAddr).port;
  })();
  const health = await probeHealth("127.0.0.1", port, 1_000);
  assert.equal(health.healthy, false);
  if (!health.healthy) {
    assert.match(health.reason, /^Cannot confirm the central serves agencies/);
    assert.doesNotMatch(health.reason, /\n/);
  }
});

Deno.test("a peer that closes, or never answers, or refuses: unhealthy", async () => {
  {
    await using closing = peer((conn) => {
      conn.close();
      return Promise.resolve();
    });
    const health = await probeHealth("127.0.0.1", closing.port, 1_000);
    assert.equal(health.healthy, false);
  }
  {
    await using silent = peer(() => Promise.resolve());
    const health = await probeHealth("127.0.0.1", silent.port, 200);
    assert.deepEqual(health, {
      healthy: false,
      reason:
        `Cannot confirm the central serves agencies: 127.0.0.1:${silent.port} did not answer within 200 ms`,
    });
  }
  {
    await using busy = peer(async (conn) => {
      await conn.write(
        encodeMessage({ kind: "error", code: "busy", message: "full" }),
      );
    });
    const health = await probeHealth("127.0.0.1", busy.port, 1_000);
    assert.equal(health.healthy, false);
    if (!health.healthy) assert.match(health.reason, /answered busy: full/);
  }
});
