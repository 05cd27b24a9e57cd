/**
 * The worker thread of {@linkcode drawWinners}: scans one byte range of
 * bets.csv for winners and posts them back. Request: `{ path, from, to }`;
 * answer: `{ winners: [agency, documents][] }` or `{ error }`.
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { scanWinners } from "./bets_csv.ts";

/** What the draw asks the worker thread. */
export interface RangeRequest {
  /** bets.csv. */
  readonly path: string;
  /** The range's first byte. */
  readonly from: number;
  /** The byte after the range. */
  readonly to: number;
}

/** What the worker thread answers. */
export type RangeAnswer =
  | { readonly winners: [number, string[]][] }
  | { readonly error: string; readonly name: string };

self.onmessage = async (event: MessageEvent<RangeRequest>) => {
  const { path, from, to } = event.data;
  let answer: RangeAnswer;
  try {
    answer = { winners: [...await scanWinners(path, from, to)] };
  } catch (error) {
    answer = { error: (error as Error).message, name: (error as Error).name };
  }
  self.postMessage(answer);
  self.close();
};
