/**
 * A stream is finished only as the file its hello announced: rows stored
 * in an agency's name that are not of its file make its finish a
 * `conflict`, and an empty stream, once finished, is the agency's stream
 * (a real file afterwards is a `conflict`, not "already finished").
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeMessage } from "../protocol/messages.ts";
import {
  agency,
  Central,
  harnessKey,
  tempDir,
  writeSampleFiles,
} from "./harness.ts";
import { helloFor, RawPeer } from "./raw_peer.ts";

Deno.test("a row sent under an agency's announced stream but not of its file makes the finish a conflict", async () => {
  await using dir = await tempDir("tp0-stream-digest-");
  const { rows } = await writeSampleFiles(dir.path, 1, 50, 5);
  await using central = new Central(join(dir.path, "storage"), {
    AGENCIES: "1",
  });
  const port = await central.ready();
  // A peer holding agency 1's key announces its real (total, digest) and
  // sends, as bet 0, one valid row that is not in the file.
  const hello = helloFor(1, rows.map((row) => row + "\n").join(""));
  {
    using peer = await RawPeer.connect(port);
    assert.equal(await peer.open(hello, harnessKey(1)), 0);
    const forged = "1,Eve,Forger,11111111,1990-01-01,7574\n";
    await peer.send(encodeMessage({
      kind: "batch",
      agency: 1,
      first: 0,
      count: 1,
      rows: new TextEncoder().encode(forged),
    }));
    assert.equal((await peer.next())?.kind, "ack");
  }
  await using honest = agency(1, port, {
    CLI_DATA_PATH: join(dir.path, "agency-1.csv"),
  });
  assert.equal(await honest.exit(), 1);
  const refused = await central.stdout.waitFor(
    /action: notificacion_fin \| result: fail/,
  );
  assert.match(
    refused,
    /agencia: 1 .*Cannot finish agency 1: the 50 bets stored under its id do not hash to the digest its hello announced/,
  );
  assert.deepEqual(central.stdout.matching(/action: sorteo/), []);
  central.kill("SIGTERM");
  assert.equal(await central.exit(), 0);
});

Deno.test("an agency that finished an empty stream is refused as a conflict on its real file", async () => {
  await using dir = await tempDir("tp0-stream-digest-");
  await writeSampleFiles(dir.path, 1, 40, 5);
  const empty = join(dir.path, "empty.csv");
  await Deno.writeTextFile(empty, "");
  await using central = new Central(join(dir.path, "storage"), {
    AGENCIES: "2",
  });
  const port = await central.ready();
  {
    // It finishes with 0 bets, then waits for the draw: stopped.
    await using run = agency(1, port, { CLI_DATA_PATH: empty });
    await central.stdout.waitFor(
      /action: agencia_finalizada \| result: success \| agencia: 1 \| apuestas: 0/,
    );
    run.kill("SIGKILL");
    await run.exit();
  }
  await using real = agency(1, port, {
    CLI_DATA_PATH: join(dir.path, "agency-1.csv"),
  });
  assert.equal(await real.exit(), 1);
  const fail = await real.stdout.waitFor(/result: fail/);
  assert.match(
    fail,
    /refused with conflict: Cannot open agency 1's stream: it announces 40 bets/,
  );
  const line = await central.stdout.waitFor(
    /action: apertura \| result: fail/,
  );
  assert.match(
    line,
    /agencia: 1 .*the central holds a stream of 0 bets with digest e3b0c44298fc1c14…/,
  );
  assert.deepEqual(central.stdout.matching(/already finished/), []);
  central.kill("SIGTERM");
  assert.equal(await central.exit(), 0);
});
