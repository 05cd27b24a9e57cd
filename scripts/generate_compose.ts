/**
 * Builds the Docker Compose document for the central and N agencies with a
 * YAML library (no string templates). Called by `generar-compose.sh`.
 *
 *   deno run --allow-read --allow-write scripts/generate_compose.ts <output-file> <clients>
 *
 * The file works with `docker compose` (v2) and `docker-compose` 1.29: no
 * top-level `name:`, an explicitly named network. Config files and data are
 * bind-mounted read-only, so editing them needs no image rebuild.
 */
import { dump as formatYaml } from "js-yaml";

/** Subnet of `tp0_testing_net`. */
export const SUBNET = "172.25.125.0/24";

/** The sample bet every agency gets for the bet stage (exercise 5). */
export const SAMPLE_BET = {
  NOMBRE: "Santiago Lionel",
  APELLIDO: "Lorca",
  DOCUMENTO: "30904465",
  NACIMIENTO: "1999-03-17",
  NUMERO: "7574",
} as const;

/**
 * The compose document for `clients` agencies (0: the central alone).
 * `hasData(k)` says whether `<dataDir>/agency-k.csv` exists to be mounted.
 */
export function composeDocument(
  clients: number,
  hasData: (k: number) => boolean,
  dataDir = "./.data",
): Record<string, unknown> {
  if (!Number.isInteger(clients) || clients < 0) {
    throw new RangeError(
      `Cannot generate compose file: ${clients} is not a number of clients`,
    );
  }
  const services: Record<string, unknown> = {
    server: {
      container_name: "server",
      image: "server:latest",
      ...(clients > 0 ? { environment: { AGENCIES: String(clients) } } : {}),
      // An anonymous volume: it outlives a restart or `up` recreating the
      // container, and a `down` starts the next run afresh (as the
      // course's harness expects); `down -v` removes it.
      volumes: ["./server/config.ini:/app/config.ini:ro", "/app/.storage"],
      networks: ["testing_net"],
      stop_grace_period: "10s",
    },
  };
  for (let k = 1; k <= clients; k++) {
    const volumes = ["./client/config.yaml:/app/config.yaml:ro"];
    if (hasData(k)) {
      volumes.push(`${dataDir}/agency-${k}.csv:/data/agency.csv:ro`);
    }
    services[`client${k}`] = {
      container_name: `client${k}`,
      image: "client:latest",
      environment: {
        CLI_ID: String(k),
        ...SAMPLE_BET,
        DOCUMENTO: String(Number(SAMPLE_BET.DOCUMENTO) + k - 1),
      },
      volumes,
      networks: ["testing_net"],
      depends_on: ["server"],
      stop_grace_period: "10s",
    };
  }
  return {
    services,
    networks: {
      testing_net: {
        name: "tp0_testing_net",
        ipam: { driver: "default", config: [{ subnet: SUBNET }] },
      },
    },
  };
}

if (import.meta.main) {
  const [output, count] = Deno.args;
  if (
    output === undefined || count === undefined || !/^\d+$/.test(count) ||
    Deno.args.length !== 2
  ) {
    console.error(
      "usage: generar-compose.sh <output-file> <clients>   (clients: 0 or more)",
    );
    Deno.exit(2);
  }
  const clients = Number(count);
  // DATA_DIR (relative to the project root) picks other agency files, e.g.
  // DATA_DIR=../shared/tp0-dataset for the course's dataset.
  const given = Deno.env.get("DATA_DIR") ?? "./.data";
  // Compose reads a path that does not start with . or / as a volume name.
  const dataDir = /^[./]/.test(given) ? given : `./${given}`;
  const hasData = (k: number) => {
    try {
      return Deno.statSync(`${dataDir}/agency-${k}.csv`).isFile;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  };
  const document = composeDocument(clients, hasData, dataDir);
  for (let k = 1; k <= clients; k++) {
    if (!hasData(k)) {
      console.error(
        `note: ${dataDir}/agency-${k}.csv does not exist: client${k} gets no data file (deno task generate-data --agencies ${clients})`,
      );
    }
  }
  // Every string quoted: docker-compose 1.29 reads YAML 1.1, where 1999-03-17 is a date.
  await Deno.writeTextFile(
    output,
    formatYaml(document, { forceQuotes: true, quoteStyle: "double" }),
  );
  console.log(`${output}: server and ${clients} client(s) on tp0_testing_net`);
}
