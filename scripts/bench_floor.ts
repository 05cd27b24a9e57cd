/**
 * The physical floor of an ingest scenario, measured beside it: one raw
 * sender process per agency file streams the file over loopback TCP to one
 * receiver, which appends everything to one file, `fdatasync`s every 4 MB
 * and at the end. No protocol, no checks, no acknowledgements beyond TCP.
 *
 * A sender is `bash -c 'cat FILE > /dev/tcp/127.0.0.1/PORT'`: Deno has no
 * `sendfile`, and `cat` copying the page cache to the socket is the
 * rawest sender the machine has for sure (a process start and a copy loop).
 * The receiver runs in the benchmark's own process (the floor's one Deno
 * process, as the central is one for the run).
 *
 * @module
 */

/** Bytes appended between two `fdatasync`s of the floor's file. */
const SYNC_EVERY = 4 * 1024 * 1024;
const READ_BUFFER = 256 * 1024;

/**
 * Seconds from the first sender's start to the last byte flushed, for
 * `files` sent to one receiver appending to `target`. Refuses to report a
 * run whose receiver got other than the files' bytes.
 */
export async function measureFloor(
  files: readonly string[],
  target: string,
): Promise<number> {
  let expected = 0;
  for (const file of files) expected += (await Deno.stat(file)).size;
  using out = await Deno.open(target, {
    write: true,
    create: true,
    truncate: true,
  });
  // Connections beyond the default backlog would wait for SYN retries.
  using listener = Deno.listen({
    hostname: "127.0.0.1",
    port: 0,
    tcpBacklog: Math.max(128, files.length),
  });
  const port = (listener.addr as Deno.NetAddr).port;
  let received = 0;
  let unsynced = 0;
  const receive = async (conn: Deno.Conn) => {
    using _ = conn;
    const buffer = new Uint8Array(READ_BUFFER);
    for (let n; (n = await conn.read(buffer)) !== null;) {
      let bytes = buffer.subarray(0, n);
      while (bytes.length > 0) bytes = bytes.subarray(out.writeSync(bytes));
      received += n;
      unsynced += n;
      if (unsynced >= SYNC_EVERY) {
        unsynced = 0;
        out.syncDataSync();
      }
    }
  };
  const started = performance.now();
  const accepted: Promise<void>[] = [];
  const accepting = (async () => {
    for (let k = 0; k < files.length; k++) {
      accepted.push(receive(await listener.accept()));
    }
  })();
  const senders = files.map((file) =>
    new Deno.Command("bash", {
      args: ["-c", `exec cat "$0" > /dev/tcp/127.0.0.1/${port}`, file],
      stdin: "null",
      stdout: "null",
    }).output()
  );
  const failed = (await Promise.all(senders)).findIndex((s) => !s.success);
  if (failed !== -1) {
    throw new Error(`Cannot measure the floor: sender ${failed + 1} failed`);
  }
  await accepting;
  await Promise.all(accepted);
  out.syncDataSync();
  const seconds = (performance.now() - started) / 1000;
  if (received !== expected) {
    throw new Error(
      `Cannot measure the floor: received ${received} bytes of ${expected}`,
    );
  }
  return seconds;
}
