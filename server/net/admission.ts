/**
 * The budget of a worker's connections that have not proven an agency yet:
 * per worker and per source address, apart from the proven ones, so a
 * crowd without a key can neither starve the agencies already in nor hold
 * the door shut for long.
 *
 * @module
 */

/** Limits of an {@linkcode Admission}. */
export interface AdmissionLimits {
  /** Unproven connections a worker holds at most. */
  readonly perWorker: number;
  /** Unproven connections one source address holds at most. */
  readonly perAddress: number;
  /**
   * How long a newcomer is safe from eviction: enough for an agency's
   * proof to arrive, short enough that a silent crowd cannot hold its
   * places for the whole handshake deadline.
   */
  readonly graceMs: number;
}

/** What {@linkcode Admission.room} decides for a new connection. */
export type Room<T> =
  | { readonly admit: true; readonly evict: T | null }
  | { readonly admit: false; readonly reason: string };

interface Entry {
  readonly ip: string;
  readonly since: number;
}

/**
 * Unproven connections by source address, oldest first. A new one is
 * admitted while its address and the worker are under their limits; past
 * a limit, the oldest unproven connection of its address (or, when the
 * worker is full, of the address that holds the most) is evicted for it
 * if it has been waiting longer than the grace, and otherwise the newcomer
 * is refused. So a crowd only churns its own places, and an agency that
 * proves itself within the grace is never pushed out.
 */
export class Admission<T> {
  #limits: AdmissionLimits;
  readonly #now: () => number;
  readonly #byAddress = new Map<string, Map<T, Entry>>();
  readonly #entries = new Map<T, Entry>();

  /**
   * Admission with no connection held yet.
   *
   * @param limits the budgets and the grace
   * @param now the clock, in ms (default `performance.now`)
   */
  constructor(limits: AdmissionLimits, now = () => performance.now()) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Unproven connections held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether a new connection from `ip` gets in, and whom it evicts. */
  room(ip: string): Room<T> {
    const { perWorker, perAddress } = this.#limits;
    const own = this.#byAddress.get(ip)?.size ?? 0;
    if (own >= perAddress) {
      return this.#evict(
        ip,
        `${own} connections from ${ip} have not proven an agency, the limit per address is ${perAddress}`,
      );
    }
    if (this.#entries.size >= perWorker) {
      return this.#evict(
        this.#busiest(),
        `${this.#entries.size} connections have not proven an agency, the limit is ${perWorker}`,
      );
    }
    return { admit: true, evict: null };
  }

  /** Counts `item`, a connection from `ip`, as unproven. */
  add(item: T, ip: string): void {
    const entry = { ip, since: this.#now() };
    this.#entries.set(item, entry);
    let peers = this.#byAddress.get(ip);
    if (peers === undefined) this.#byAddress.set(ip, peers = new Map());
    peers.set(item, entry);
  }

  /**
   * The process ran short of file descriptors: the budget is cut to half
   * of what is held now (4 at least), for good; returns the oldest
   * connections past it, for the caller to evict.
   */
  shrink(): T[] {
    const perWorker = Math.max(4, Math.floor(this.#entries.size / 2));
    this.#limits = {
      ...this.#limits,
      perWorker,
      perAddress: Math.max(
        1,
        Math.min(this.#limits.perAddress, Math.floor(perWorker / 2)),
      ),
    };
    return [...this.#entries.keys()].slice(
      0,
      Math.max(0, this.#entries.size - perWorker),
    );
  }

  /** `item` proved its agency or ended: it no longer counts. Idempotent. */
  delete(item: T): void {
    const entry = this.#entries.get(item);
    if (entry === undefined) return;
    this.#entries.delete(item);
    const peers = this.#byAddress.get(entry.ip)!;
    peers.delete(item);
    if (peers.size === 0) this.#byAddress.delete(entry.ip);
  }

  /** The oldest of `ip`'s connections, if past the grace; else a refusal. */
  #evict(ip: string, reason: string): Room<T> {
    const oldest = this.#byAddress.get(ip)?.entries().next().value;
    if (
      oldest !== undefined &&
      this.#now() - oldest[1].since >= this.#limits.graceMs
    ) {
      return { admit: true, evict: oldest[0] };
    }
    return { admit: false, reason };
  }

  /** The address holding the most unproven connections. */
  #busiest(): string {
    let busiest = "";
    let most = -1;
    for (const [ip, peers] of this.#byAddress) {
      if (peers.size > most) [busiest, most] = [ip, peers.size];
    }
    return busiest;
  }
}
