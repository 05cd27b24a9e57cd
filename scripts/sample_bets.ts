/**
 * Deterministic synthetic bets: realistic Argentine names with accents,
 * 8-digit documents, plausible birthdates, and an exact number of bets on
 * the winning number 7574 at known places. Used for the project's sample
 * data, the tests and the benchmark.
 */
import { join } from "node:path";
import { LOTTERY_WINNER_NUMBER } from "../lib/bet.ts";

const FIRST = [
  "Santiago",
  "Mateo",
  "Benjamín",
  "Valentina",
  "Sofía",
  "Martina",
  "Joaquín",
  "Agustín",
  "Tomás",
  "Lucía",
  "Camila",
  "Nicolás",
  "Julián",
  "Florencia",
  "Agustina",
  "Facundo",
  "Ramón",
  "Inés",
  "Belén",
  "Máximo",
  "Germán",
  "Ailén",
];
const SECOND = [
  "",
  "",
  "",
  " Lionel",
  " Emanuel",
  " Nicolás",
  " Rocío",
  " Andrés",
  " José",
  " Ángel",
];
const LAST = [
  "González",
  "Rodríguez",
  "Fernández",
  "López",
  "Martínez",
  "Pérez",
  "Gómez",
  "Sánchez",
  "Álvarez",
  "Romero",
  "Sosa",
  "Benítez",
  "Fornerón",
  "Núñez",
  "Domínguez",
  "Mamani",
  "Zambrano",
  "Lorca",
  "Varela",
  "Giménez",
  "Ibáñez",
];

/** A seeded PRNG (mulberry32): the same seed gives the same sequence. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One agency's sample file and what the draw will find in it. */
export interface SampleAgency {
  /** CSV lines without line ends: `first,last,document,birthdate,number`. */
  readonly lines: string[];
  /** The documents of the winning bets, in file order. */
  readonly winners: string[];
}

/**
 * Generates `count` bets for `agency`, exactly `winners` of them on 7574
 * (spread evenly), from `seed`. Documents are unique across agencies.
 */
export function sampleAgency(
  agency: number,
  count: number,
  winners: number,
  seed = 7574,
): SampleAgency {
  if (winners > count) {
    throw new RangeError(`Cannot place ${winners} winners among ${count} bets`);
  }
  const next = random(seed * 1000 + agency);
  const pick = <T>(list: readonly T[]): T =>
    list[Math.floor(next() * list.length)]!;
  const winning = new Set<number>();
  for (let w = 0; w < winners; w++) {
    winning.add(Math.floor(((w + 0.5) * count) / winners));
  }
  const lines: string[] = [];
  const documents: string[] = [];
  for (let i = 0; i < count; i++) {
    const document = String(10_000_000 + agency * 1_000_000 + i).padStart(
      8,
      "0",
    ).slice(-8);
    let number = Math.floor(next() * 10_000);
    if (winning.has(i)) number = LOTTERY_WINNER_NUMBER;
    else if (number === LOTTERY_WINNER_NUMBER) number = 7575;
    const year = 1950 + Math.floor(next() * 56);
    const month = 1 + Math.floor(next() * 12);
    const day = 1 + Math.floor(next() * 28);
    const birthdate = `${year}-${String(month).padStart(2, "0")}-${
      String(day).padStart(2, "0")
    }`;
    lines.push(
      `${pick(FIRST)}${pick(SECOND)},${
        pick(LAST)
      },${document},${birthdate},${number}`,
    );
    if (number === LOTTERY_WINNER_NUMBER) documents.push(document);
  }
  return { lines, winners: documents };
}

/** A scenario's files, and the winners the draw will find in each. */
export interface ScenarioFiles {
  /** `agency-K.csv` for K = 1 … agencies, in order. */
  readonly files: string[];
  /** How many bets on 7574 each file holds. */
  readonly winners: number[];
}

/**
 * Writes the files of an `AxB` scenario into `dir`: `agencies` files of
 * `perAgency` bets, agency K with K mod 5 winners (as many as fit).
 */
export async function writeScenarioFiles(
  dir: string,
  agencies: number,
  perAgency: number,
): Promise<ScenarioFiles> {
  const files: string[] = [];
  const winners: number[] = [];
  for (let k = 1; k <= agencies; k++) {
    const sample = sampleAgency(k, perAgency, Math.min(k % 5, perAgency));
    const file = join(dir, `agency-${k}.csv`);
    await Deno.writeTextFile(file, sample.lines.join("\n") + "\n");
    files.push(file);
    winners.push(sample.winners.length);
  }
  return { files, winners };
}
