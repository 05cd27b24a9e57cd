/**
 * Hostile peers against a running central: every malformed or abusive input
 * gets an error answer where the protocol allows, one `result: fail` line
 * naming the reason and the peer, a closed connection, and nothing stored;
 * then a healthy agency still runs to the end. Frames that need a proven
 * connection to reach the check they test are sent after the handshake,
 * with agency 2's key, for a stream of one bet (the healthy agency is 1).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { HEADER_SIZE } from "../protocol/frame.ts";
import {
  decodeMessage,
  encodeMessage,
  MessageType,
  type Response,
  type WireBet,
} from "../protocol/messages.ts";
import { concat } from "../protocol/test_fixtures.ts";
import { sampleAgency } from "../scripts/sample_bets.ts";
import { agency, Central, field, harnessKey, tempDir } from "./harness.ts";
import {
  frameHeader as header,
  helloFor,
  helloOf,
  RawPeer,
} from "./raw_peer.ts";

const GOOD: WireBet = {
  firstName: "Ana",
  lastName: "Díaz",
  document: "30904465",
  birthdate: "1999-03-17",
  number: "7574",
};

/**
 * Agency 2's stream: the one valid edge bet the test stores, so its finish
 * (checked against the stream's digest) is accepted.
 */
const AS2 = helloFor(2, "2,Ana,Díaz,00000000,1999-03-17,0\n");

/** Sends `bytes`, then reads until the central closes (within `ms`). */
async function exchange(
  port: number,
  bytes: Uint8Array,
  ms = 5_000,
): Promise<{ received: Uint8Array; closedBy: number }> {
  const started = Date.now();
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  if (bytes.length > 0) await conn.write(bytes);
  const chunks: number[] = [];
  const buffer = new Uint8Array(65536);
  const timer = setTimeout(() => conn.close(), ms);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(...buffer.subarray(0, n));
    }
  } catch (error) {
    if (
      !(error instanceof Deno.errors.BadResource ||
        error instanceof Deno.errors.ConnectionReset)
    ) throw error;
  } finally {
    clearTimeout(timer);
  }
  return { received: new Uint8Array(chunks), closedBy: Date.now() - started };
}

/**
 * Opens a connection as agency 2 (its key, a stream of one bet), sends
 * `bytes`, reads until the close.
 */
async function exchangeAs2(
  port: number,
  bytes: Uint8Array,
): Promise<Response[]> {
  using peer = await RawPeer.connect(port);
  await peer.open(AS2, harnessKey(2));
  await peer.send(bytes);
  return await peer.rest(5_000);
}

function frames(bytes: Uint8Array): Response[] {
  const out: Response[] = [];
  let at = 0;
  while (at + HEADER_SIZE <= bytes.length) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4)
      .getUint32(0);
    out.push(
      decodeMessage({
        type: bytes[at]!,
        payload: bytes.subarray(at + HEADER_SIZE, at + HEADER_SIZE + length),
      }) as Response,
    );
    at += HEADER_SIZE + length;
  }
  return out;
}

Deno.test("hostile peers get an error and a closed connection, and harm no one", async () => {
  await using dir = await tempDir("tp0-hostile-");
  await using central = new Central(join(dir.path, "storage"), {
    AGENCIES: "2",
    IDLE_TIMEOUT: "1s",
    MAX_CONNECTIONS: "4",
  });
  const port = await central.ready();
  let fails = 0;
  const expectFail = async (reason: RegExp) => {
    fails++;
    await central.stdout.waitFor(
      new RegExp(
        `result: fail .*ip: 127\\.0\\.0\\.1.*${reason.source}|result: fail .*${reason.source}.*ip: 127\\.0\\.0\\.1`,
      ),
      5_000,
    );
    assert.equal(
      central.stdout.matching(/result: fail/).length,
      fails,
      `one fail line for ${reason}:\n${
        central.stdout.matching(/result: fail/).join("\n")
      }`,
    );
  };
  const refused = async (
    bytes: Uint8Array,
    code: string,
    reason: RegExp,
    proven = false,
  ) => {
    const answer = proven
      ? await exchangeAs2(port, bytes)
      : frames((await exchange(port, bytes)).received);
    assert.equal(answer.length, 1, `one answer for ${reason}`);
    assert.deepEqual(
      answer[0]!.kind === "error" && answer[0]!.code,
      code,
      String(reason),
    );
    await expectFail(reason);
  };
  const bet = (wire: Partial<WireBet>, agencyId = 2) =>
    encodeMessage({ kind: "bet", agency: agencyId, bet: { ...GOOD, ...wire } });

  await refused(
    header(MessageType.batch, 16_384),
    "malformedFrame",
    /exceeds the 8187-byte limit/,
  );
  await refused(header(0x08, 0), "malformedFrame", /unknown message type 0x08/);
  await refused(
    concat(
      header(MessageType.bet, 15),
      new Uint8Array([0, 0, 0, 1, 0, 1, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]),
    ),
    "malformedFrame",
    /not valid UTF-8/,
  );
  const missingField = bet({}).slice(0, -3);
  new DataView(missingField.buffer).setUint32(
    1,
    missingField.length - HEADER_SIZE,
  );
  await refused(missingField, "malformedFrame", /payload ends/);
  const ack = encodeMessage({
    kind: "ack",
    first: 0,
    count: 0,
    duplicate: false,
  });
  await refused(ack, "unauthenticated", /has not proven an agency's identity/);
  await refused(ack, "unexpectedMessage", /only the central sends it/, true);
  await refused(
    bet({ document: "12a45" }),
    "invalidBet",
    /document "12a45"/,
    true,
  );
  await refused(
    bet({ number: "-1" }),
    "invalidBet",
    /number "-1" is not a non-negative integer/,
    true,
  );
  await refused(
    bet({ birthdate: "2023-02-30" }),
    "invalidBet",
    /not a calendar date/,
    true,
  );
  await refused(
    bet({ firstName: "" }),
    "invalidBet",
    /first_name is empty/,
    true,
  );
  {
    // The proof binds the connection to agency 2; asking about agency 1 is refused.
    const answers = await exchangeAs2(
      port,
      concat(
        encodeMessage({ kind: "totalQuery", agency: 2 }),
        encodeMessage({ kind: "winnersQuery", agency: 1 }),
      ),
    );
    assert.deepEqual(answers.map((a) => a.kind === "error" ? a.code : a.kind), [
      "pending",
      "forbidden",
    ]);
    await expectFail(/this connection speaks for agency 2/);
  }

  {
    // A key the secret gives agency 9 opens nothing: there is no agency 9.
    using peer = await RawPeer.connect(port);
    await assert.rejects(
      peer.open(helloOf(9), harnessKey(9)),
      /unknownAgency: Cannot serve agency 9: agencies are numbered 1 to 2/,
    );
    await expectFail(/agencies are numbered 1 to 2/);
  }

  // Valid edge values are stored: document 00000000, number 0.
  const edge = await exchangeAs2(
    port,
    bet({ document: "00000000", number: "0" }),
  );
  assert.equal(edge[0]?.kind, "ack");

  // A truncated frame: the peer closes half-way.
  {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(
      concat(header(MessageType.batch, 100), new Uint8Array(10)),
    );
    await conn.closeWrite();
    const buffer = new Uint8Array(256);
    while ((await conn.read(buffer)) !== null) {
      /* until the central closes */
    }
    await expectFail(/stream ended/);
  }
  // Garbage text without a line feed is not an echo line forever.
  {
    const { closedBy } = await exchange(
      port,
      new TextEncoder().encode("x".repeat(9000)),
    );
    assert.ok(closedBy < 5_000);
    await expectFail(/no line feed in 8192 bytes/);
  }
  // A silent peer and a trickling one are cut after IDLE_TIMEOUT.
  {
    const { closedBy } = await exchange(port, new Uint8Array(), 10_000);
    assert.ok(
      closedBy >= 900 && closedBy < 5_000,
      `silent peer closed after ${closedBy} ms`,
    );
    await expectFail(/no proof of an agency.s identity within 1000 ms/);
    using conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const started = Date.now();
    let closed = false;
    for (let i = 0; i < 20 && !closed; i++) {
      try {
        await conn.write(new Uint8Array([MessageType.bet]));
      } catch {
        closed = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.ok(closed || Date.now() - started < 7_000);
    await expectFail(/no proof of an agency.s identity within 1000 ms/);
  }
  // A peer that keeps talking is never cut, however long it stays: the idle
  // deadline moves with every frame.
  {
    using peer = await RawPeer.connect(port);
    await peer.open(AS2, harnessKey(2));
    const query = encodeMessage({ kind: "totalQuery", agency: 2 });
    const started = Date.now();
    while (Date.now() - started < 2_500) {
      assert.ok(await peer.send(query));
      const answer = await peer.next();
      assert.ok(
        answer !== null,
        `cut after ${Date.now() - started} ms of queries`,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
  // A flood of connections that prove nothing, beyond their budget (2 per
  // address and worker with MAX_CONNECTIONS 4), is refused, not queued:
  // held a moment, then told busy (each read ends: the close is bounded).
  {
    const conns = await Promise.all(
      Array.from(
        { length: 12 },
        () => Deno.connect({ hostname: "127.0.0.1", port }),
      ),
    );
    const buffer = new Uint8Array(16);
    const answers = await Promise.all(conns.map(async (conn) => {
      try {
        const n = await conn.read(buffer);
        // The error frame's code byte follows its 5-byte header.
        return n !== null && buffer[0] === 0x1f && buffer[5] === 7;
      } catch (error) {
        if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
        return false;
      }
    }));
    for (const conn of conns) conn.close();
    const refused = answers.filter((busy) => busy).length;
    assert.ok(refused >= 4, `${refused} of 12 told busy`);
    await central.stdout.waitFor(
      /action: accept_connections \| result: fail .*have not proven an agency, the limit per address is 2/,
    );
  }

  // Everyone else is still served: a healthy agency runs to the end.
  const sample = sampleAgency(1, 300, 2);
  const data = join(dir.path, "agency-1.csv");
  await Deno.writeTextFile(data, sample.lines.join("\n") + "\n");
  await using healthy = agency(1, port, { CLI_DATA_PATH: data });
  {
    // Agency 2's one bet is stored (the edge bet): it finishes, for the draw.
    using peer = await RawPeer.connect(port);
    await peer.open(AS2, harnessKey(2));
    await peer.send(encodeMessage({ kind: "finish", agency: 2, total: 1 }));
    assert.equal((await peer.next())?.kind, "ack");
  }
  assert.equal(await healthy.exit(), 0);
  const line = await healthy.stdout.waitFor(
    /action: consulta_ganadores \| result: success/,
  );
  assert.equal(Number(field(line, "cant_ganadores")), 2);
  const stored = (await Deno.readTextFile(join(central.storageDir, "bets.csv")))
    .split("\n").filter((l) => l !== "");
  assert.equal(
    stored.length,
    301,
    "the healthy agency's bets and the one valid edge bet, nothing from bad frames",
  );
  assert.ok(stored.includes("2,Ana,Díaz,00000000,1999-03-17,0"));
});
