/**
 * The benchmark with metrics on: the central serves `GET /metrics`, and a
 * scraper reads it every second during the run, as Prometheus would (at a
 * shorter interval than its usual 15 s), then checks the last scrape
 * against what the run stored.
 *
 * @module
 */

/** How often the bench scrapes a central with metrics on. */
export const SCRAPE_INTERVAL_MS = 1_000;

/** A free port on 127.0.0.1 for the central's metrics. */
export function freeMetricsPort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return (listener.addr as Deno.NetAddr).port;
}

/** Parses a scrape's samples by name (labels included). */
export function parseSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** Scrapes `127.0.0.1:port/metrics` every {@linkcode SCRAPE_INTERVAL_MS} until stopped. */
export class MetricsScraper {
  readonly #url: string;
  readonly #timer: ReturnType<typeof setInterval>;
  #inFlight: Promise<void> = Promise.resolve();
  /** Scrapes made. */
  scrapes = 0;

  /** Starts scraping the central's metrics on `port`. */
  constructor(port: number) {
    this.#url = `http://127.0.0.1:${port}/metrics`;
    this.#timer = setInterval(() => {
      this.#inFlight = this.#inFlight.then(async () => {
        await this.scrape();
      });
    }, SCRAPE_INTERVAL_MS);
  }

  /** One scrape's samples; throws unless the answer is 200. */
  async scrape(): Promise<Map<string, number>> {
    const response = await fetch(this.#url);
    const text = await response.text();
    if (response.status !== 200) {
      throw new Error(`Cannot scrape ${this.#url}: ${response.status}`);
    }
    this.scrapes++;
    return parseSamples(text);
  }

  /**
   * Stops, then checks a last scrape against the run: `bets` stored (as
   * bets.csv holds them), every agency finished, the draw made.
   */
  async stop(bets: number, agencies: number): Promise<void> {
    clearInterval(this.#timer);
    await this.#inFlight;
    const last = await this.scrape();
    const expect = (name: string, value: number) => {
      if (last.get(name) !== value) {
        throw new Error(
          `Cannot report: the scrape says ${name} ${
            last.get(name)
          }, the run ${value}`,
        );
      }
    };
    expect("central_bets_stored_total", bets);
    expect("central_ledger_bets", bets);
    expect("central_agencies_finished", agencies);
    expect("central_draw_made", 1);
  }
}
