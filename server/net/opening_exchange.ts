/**
 * The opening exchange of a framed connection (hello, challenge, proof,
 * welcome) and its deadline: the whole time allowed from the accept to the
 * proof.
 *
 * @module
 */
import type { Message } from "../../protocol/messages.ts";
import { Pipeline } from "../outcomes.ts";
import type { Hello, Peer } from "./handlers.ts";
import type { ReplyQueue } from "./reply_queue.ts";
import { ResendRun } from "./resend_run.ts";
import { Unauthenticated } from "./session_errors.ts";
import {
  HANDSHAKE_TIMEOUT_MS,
  type SessionOptions,
} from "./session_options.ts";

/**
 * One connection's opening exchange, until its proof binds the connection
 * to an agency; replies go through the session's {@linkcode ReplyQueue}.
 */
export class OpeningExchange {
  readonly #options: SessionOptions;
  readonly #replies: ReplyQueue;
  readonly #ip: string;
  /** The hello and the nonce of the challenge sent for it, until the proof. */
  #opening: { readonly hello: Hello; readonly nonce: Uint8Array } | null = null;
  /** When the proof is due, in `performance.now` ms. */
  readonly #proofDue: number;

  /**
   * Starts the handshake's deadline at once.
   *
   * @param options the session's options
   * @param replies the session's reply queue
   * @param ip the peer's address
   */
  constructor(options: SessionOptions, replies: ReplyQueue, ip: string) {
    this.#options = options;
    this.#replies = replies;
    this.#ip = ip;
    this.#proofDue = performance.now() + this.handshakeMs();
  }

  /** The whole time allowed from the accept to the proof. */
  handshakeMs(): number {
    const { idleTimeoutMs, opening } = this.#options;
    return Math.min(idleTimeoutMs, opening.timeoutMs ?? HANDSHAKE_TIMEOUT_MS);
  }

  /** The deadline of a read before the proof: until the proof is due. */
  deadlineMs(): number {
    const { idleTimeoutMs } = this.#options;
    return Math.max(
      0,
      Math.min(idleTimeoutMs, this.#proofDue - performance.now()),
    );
  }

  /**
   * One step of the opening exchange: a hello is answered with a challenge,
   * and the proof that follows it, if it holds, with the hello handler's
   * welcome, which binds the connection to the agency: the peer returned
   * (null until then, or when the connection closes instead). Anything
   * else before that throws {@linkcode Unauthenticated}.
   */
  async step(message: Message): Promise<Peer | null> {
    const { authenticator, hello: handler } = this.#options.opening;
    const replies = this.#replies;
    const opening = this.#opening;
    if (message.kind === "hello" && opening === null) {
      const nonce = authenticator.nonce();
      this.#opening = { hello: message, nonce };
      replies.push(Promise.resolve({
        messages: [{ kind: "challenge", nonce }],
        close: false,
      }));
      await replies.idle();
      return null;
    }
    if (message.kind !== "proof" || opening === null) {
      throw new Unauthenticated(
        `Cannot serve a ${message.kind} message: the connection has not proven an agency's identity (${
          opening === null ? "hello" : "proof"
        } expected)`,
      );
    }
    const { hello, nonce } = opening;
    if (!await authenticator.verify(nonce, hello, message.mac)) {
      throw new Unauthenticated(
        `Cannot serve agency ${hello.agency}: the proof does not hold`,
      );
    }
    const peer: Peer = {
      ip: this.#ip,
      agency: hello.agency,
      total: hello.total,
      digest: hello.digest,
      pipeline: new Pipeline(),
      resends: new ResendRun(this.#options.log, hello.agency),
    };
    replies.push(handler(hello, peer));
    await replies.idle();
    if (replies.closing) return null;
    return peer;
  }
}
