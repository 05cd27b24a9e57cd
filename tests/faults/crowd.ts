/**
 * The keyless crowd, as a process of its own (as an attacker on the same
 * machine runs it, and so that its load does not slow the test's own
 * clock): `size` connections to 127.0.0.1:`port` that send a hello and
 * never prove, each reconnecting as soon as it is closed, for `seconds`.
 * It prints `crowd_busy` once it is first told busy, and at its end one
 * line of JSON: connections opened, and how many were told busy.
 *
 *   deno run --allow-net tests/faults/crowd.ts PORT SIZE SECONDS
 */
import { encodeMessage } from "../../protocol/messages.ts";
import { helloOf } from "../raw_peer.ts";

/** What a crowd did: connections opened, and how many were told busy. */
export interface CrowdCount {
  /** Connections opened. */
  connections: number;
  /** Connections answered `busy`. */
  busy: number;
}

/** The central refused, reset or closed the connection (or the crowd stopped). */
function isHungUp(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionRefused ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted;
}

/**
 * `size` connections to 127.0.0.1:`port`, each sending a hello and never
 * its proof, and opening a new one as soon as it is closed, until `stop`.
 */
export function crowd(
  port: number,
  size: number,
  stop: AbortSignal,
): { count: CrowdCount; done: Promise<void[]> } {
  const count: CrowdCount = { connections: 0, busy: 0 };
  const hello = encodeMessage({ kind: "hello", ...helloOf(1, 1) });
  const buffer = new Uint8Array(256);
  const member = async () => {
    while (!stop.aborted) {
      let conn: Deno.Conn;
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port });
      } catch (error) {
        // Refused: the central is gone (a full backlog drops, not refuses).
        if (error instanceof Deno.errors.ConnectionRefused) return;
        if (!isHungUp(error)) throw error;
        continue;
      }
      count.connections++;
      const hangUp = () => conn.close();
      stop.addEventListener("abort", hangUp, { once: true });
      try {
        await conn.write(hello);
        for (;;) {
          const n = await conn.read(buffer);
          if (n === null) break;
          // The error frame's code byte follows its 5-byte header.
          if (buffer[0] === 0x1f && buffer[5] === 7 && count.busy++ === 0) {
            console.log("crowd_busy");
          }
        }
      } catch (error) {
        if (!isHungUp(error)) throw error;
      } finally {
        stop.removeEventListener("abort", hangUp);
        if (!stop.aborted) conn.close();
      }
    }
  };
  const done = Promise.all(Array.from({ length: size }, member));
  return { count, done };
}

if (import.meta.main) {
  const [port, size, seconds] = Deno.args.map(Number);
  const stop = new AbortController();
  const { count, done } = crowd(port!, size!, stop.signal);
  setTimeout(() => stop.abort(), seconds! * 1_000);
  await done;
  console.log(JSON.stringify(count));
}
