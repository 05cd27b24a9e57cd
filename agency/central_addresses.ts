/**
 * The centrals an agency may talk to: `server.address` is one `host:port`
 * or a comma-separated list of them (several centrals sharing one
 * database). The agency uses one at a time and moves to the next after a
 * failure; every request is safe to repeat, wherever it lands.
 *
 * @module
 */

/** One central's address. */
export interface CentralAddress {
  /** Its host name or IP address. */
  readonly hostname: string;
  /** Its TCP port. */
  readonly port: number;
}

/** The list, and which one is in use. */
export class CentralAddresses {
  readonly #list: readonly CentralAddress[];
  #at = 0;

  /**
   * Starts at the first address of `list`.
   *
   * @param list at least one address; the first is tried first
   */
  constructor(list: readonly CentralAddress[]) {
    if (list.length === 0) {
      throw new RangeError("Cannot use the centrals: no address was given");
    }
    this.#list = list;
  }

  /** The address in use. */
  get current(): CentralAddress {
    return this.#list[this.#at]!;
  }

  /** Moves to the next address (back to the first after the last). */
  advance(): void {
    this.#at = (this.#at + 1) % this.#list.length;
  }

  /** How many addresses there are. */
  get size(): number {
    return this.#list.length;
  }

  /** `host:port` of the one in use. */
  toString(): string {
    const { hostname, port } = this.current;
    return `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  }
}
