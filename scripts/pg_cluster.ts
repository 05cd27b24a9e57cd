/**
 * Throwaway PostgreSQL clusters for tests and benchmarks: `initdb` in a
 * temporary directory, `pg_ctl start` on 127.0.0.1 and a unix socket in
 * that directory, a synchronous standby made with `pg_basebackup`, and
 * everything stopped and removed at the end. PostgreSQL refuses to run as
 * root: as root its programs run as the `postgres` user (`runuser`), in
 * directories that user owns.
 *
 * @module
 */
import { join } from "node:path";

/** Where Debian keeps the server programs, newest version first; else `PATH`. */
function binDir(): string {
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((e) => e.name).filter((n) => /^\d+$/.test(n))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) {
      return `/usr/lib/postgresql/${versions[0]}/bin`;
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return "";
}

const BIN = binDir();
let root: Promise<boolean> | null = null;

/** True when this process runs as root (`id -u`: no `--allow-sys` needed). */
function asRoot(): Promise<boolean> {
  return root ??= new Deno.Command("id", { args: ["-u"] }).output().then(
    (out) => new TextDecoder().decode(out.stdout).trim() === "0",
  );
}

/** Runs a PostgreSQL program (as `postgres` when we are root); throws with its output on failure. */
export async function pgRun(program: string, args: string[]): Promise<string> {
  const path = BIN === "" ? program : join(BIN, program);
  const command = await asRoot()
    ? new Deno.Command("runuser", {
      args: ["-u", "postgres", "--", path, ...args],
    })
    : new Deno.Command(path, { args });
  let output: Deno.CommandOutput;
  try {
    output = await command.output();
  } catch (error) {
    throw new Error(
      `Cannot run ${program}: ${
        (error as Error).message
      } (install PostgreSQL: apt-get install postgresql)`,
      { cause: error },
    );
  }
  const text = new TextDecoder().decode(output.stdout) +
    new TextDecoder().decode(output.stderr);
  if (!output.success) {
    throw new Error(`Cannot run ${program} ${args[0] ?? ""}: ${text.trim()}`);
  }
  return text;
}

/** A temporary directory the server's user owns, mode 0700. */
async function ownedDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  if (await asRoot()) {
    const { uid, gid } = postgresUser();
    await Deno.chown(dir, uid, gid);
  }
  return dir;
}

function postgresUser(): { uid: number; gid: number } {
  const line = Deno.readTextFileSync("/etc/passwd").split("\n")
    .find((l) => l.startsWith("postgres:"));
  if (line === undefined) {
    throw new Error(
      "Cannot run PostgreSQL as root: there is no postgres user (apt-get install postgresql)",
    );
  }
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** A free TCP port on 127.0.0.1 (bound once and released). */
function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return (listener.addr as Deno.NetAddr).port;
}

/** One running server of a throwaway cluster. */
export class PgServer implements AsyncDisposable {
  /** Its data (and socket) directory. */
  readonly dir: string;
  /** Its port on 127.0.0.1. */
  readonly port: number;
  #stopped = false;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  /**
   * A new primary, with `synchronous_commit` on (the default) and, given
   * `standby`, that standby's name as its synchronous one.
   */
  static async primary(standby: string | null = null): Promise<PgServer> {
    const dir = await ownedDir("tp0-pg-");
    await pgRun("initdb", [
      "-D",
      join(dir, "data"),
      "-A",
      "trust",
      "-U",
      "postgres",
      "--no-sync",
    ]);
    const server = new PgServer(dir, freePort());
    const settings = [
      "listen_addresses = '127.0.0.1'",
      `port = ${server.port}`,
      `unix_socket_directories = '${dir}'`,
      "max_connections = 200",
      "wal_level = replica",
      "max_wal_senders = 4",
      ...(standby === null ? [] : [`synchronous_standby_names = '${standby}'`]),
    ];
    await server.#appendConf(settings);
    await server.start();
    return server;
  }

  /** A synchronous standby of `primary` named `name`, streaming from it. */
  static async standby(primary: PgServer, name: string): Promise<PgServer> {
    const dir = await ownedDir("tp0-pg-standby-");
    await pgRun("pg_basebackup", [
      "-h",
      "127.0.0.1",
      "-p",
      String(primary.port),
      "-U",
      "postgres",
      "-D",
      join(dir, "data"),
      "-R",
      "-X",
      "stream",
    ]);
    const server = new PgServer(dir, freePort());
    // After the primary_conninfo `pg_basebackup -R` wrote there: this one wins.
    await server.#appendConf([
      `port = ${server.port}`,
      `unix_socket_directories = '${dir}'`,
      `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=postgres application_name=${name}'`,
      // Promoted, it waits for no standby of its own.
      "synchronous_standby_names = ''",
    ]);
    await server.start();
    return server;
  }

  /** A URL of the `postgres` database over TCP. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Starts it and waits until it accepts connections. */
  async start(): Promise<void> {
    await pgRun("pg_ctl", [
      "-D",
      join(this.dir, "data"),
      "-l",
      join(this.dir, "log"),
      "-w",
      "start",
    ]);
    this.#stopped = false;
  }

  /** Promotes a standby to primary, waiting for it. */
  async promote(): Promise<void> {
    await pgRun("pg_ctl", ["-D", join(this.dir, "data"), "-w", "promote"]);
  }

  /** The postmaster's pid. */
  async pid(): Promise<number> {
    const text = await Deno.readTextFile(
      join(this.dir, "data", "postmaster.pid"),
    );
    return Number(text.split("\n")[0]);
  }

  /** Kills the server at once (SIGKILL to the postmaster and its children). */
  async kill(): Promise<void> {
    const pid = await this.pid();
    const children = await new Deno.Command("pgrep", {
      args: ["-P", String(pid)],
    }).output();
    Deno.kill(pid, "SIGKILL");
    for (const child of new TextDecoder().decode(children.stdout).split("\n")) {
      if (child.trim() === "") continue;
      try {
        Deno.kill(Number(child), "SIGKILL");
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    }
    this.#stopped = true;
  }

  /** Stops it (fast) if running, and removes its directory; idempotent. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      await pgRun("pg_ctl", [
        "-D",
        join(this.dir, "data"),
        "-m",
        "immediate",
        "-w",
        "stop",
      ])
        .catch(() => {});
    }
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  async #appendConf(lines: string[]): Promise<void> {
    const path = join(this.dir, "data", "postgresql.auto.conf");
    await Deno.writeTextFile(path, lines.join("\n") + "\n", { append: true });
  }
}
