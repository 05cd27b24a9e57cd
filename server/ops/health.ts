/**
 * `central health`: is a central at this address serving agencies? It opens
 * a connection and sends the first message of an agency's opening, a hello;
 * a central that answers it with a challenge has a worker that accepts,
 * reads frames and runs the opening exchange. The probe then closes without
 * a proof, which the central takes as a peer that left, not as a failed
 * authentication: no fail line, no auth-failure count. It needs no key and
 * no tool but the `central` binary, so it is the container's healthcheck.
 *
 * @module
 */
import { writeAll } from "../../lib/net.ts";
import { Timer } from "../../lib/timer.ts";
import { BufferedReader } from "../../protocol/buffered_reader.ts";
import { readFrame } from "../../protocol/frame.ts";
import {
  decodeMessage,
  DIGEST_SIZE,
  encodeMessage,
  isKnownMessageType,
} from "../../protocol/messages.ts";

/** How long the whole probe may take before the central counts as unhealthy. */
export const HEALTH_TIMEOUT_MS = 2_000;

/** The probe's answer: healthy, or why not, in one line. */
export type Health = { readonly healthy: true } | {
  readonly healthy: false;
  readonly reason: string;
};

/**
 * The address `central health` probes: the listen address, or the loopback
 * when the central listens on every address (`0.0.0.0`, `::`).
 */
export function probeAddress(listenIp: string): string {
  if (listenIp === "0.0.0.0" || listenIp === "") return "127.0.0.1";
  if (listenIp === "::") return "::1";
  return listenIp;
}

/** Probes the central at `hostname:port` within `timeoutMs`. */
export async function probeHealth(
  hostname: string,
  port: number,
  timeoutMs: number = HEALTH_TIMEOUT_MS,
): Promise<Health> {
  const where = `${hostname}:${port}`;
  let conn: Deno.Conn | null = null;
  let deadline: Timer | undefined;
  const expired = new Promise<Health>((resolve) => {
    deadline = new Timer(timeoutMs, () => {
      close(conn);
      resolve(unhealthy(`${where} did not answer within ${timeoutMs} ms`));
    });
  });
  const exchange = async (): Promise<Health> => {
    conn = await Deno.connect({ hostname, port });
    if (!deadline?.pending) close(conn);
    const hello = encodeMessage({
      kind: "hello",
      agency: 1,
      total: 0,
      digest: new Uint8Array(DIGEST_SIZE),
    });
    await writeAll(conn, hello);
    const frame = await readFrame(new BufferedReader(conn), {
      isKnownType: isKnownMessageType,
    });
    if (frame === null) {
      return unhealthy(`${where} closed the connection without answering`);
    }
    const answer = decodeMessage(frame);
    if (answer.kind === "challenge") return { healthy: true };
    if (answer.kind === "error") {
      return unhealthy(`${where} answered ${answer.code}: ${answer.message}`);
    }
    return unhealthy(`${where} answered a ${answer.kind}, not a challenge`);
  };
  try {
    return await Promise.race([
      exchange().catch((error: unknown) =>
        unhealthy(`${where}: ${(error as Error).message}`)
      ),
      expired,
    ]);
  } finally {
    deadline?.cancel();
    close(conn);
  }
}

function close(conn: Deno.Conn | null): void {
  try {
    conn?.close();
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}

function unhealthy(reason: string): Health {
  return {
    healthy: false,
    reason: `Cannot confirm the central serves agencies: ${reason}`,
  };
}
