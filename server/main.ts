/**
 * `central`: the Lotería Nacional central. Without arguments it is the
 * supervisor: it loads the configuration, recovers the storage directory,
 * starts the workers and keeps them running until SIGTERM or SIGINT. With
 * the internal `worker` sub-command it is one worker, configured by its
 * supervisor. This is the only module that reads the environment.
 */
import { join } from "node:path";
import { agencyKey } from "../lib/agency_auth.ts";
import { readConfigFile } from "../lib/cli.ts";
import { ConfigError } from "../lib/config_error.ts";
import { type ActionLog, createLog, type Logging } from "../lib/log.ts";
import { ThrottledLog } from "../lib/log_throttle.ts";
import { versionLine } from "../lib/version.ts";
import {
  type CentralConfig,
  centralHelp,
  loadCentralConfig,
  parseCentralArgs,
} from "./config.ts";
import { FailureLog } from "./net/failure_log.ts";
import { createHandler, createHelloHandler } from "./net/handlers.ts";
import {
  INSTANCE_FILE,
  InstanceLock,
  portLockPath,
} from "./store/instance_lock.ts";
import { makePrivate } from "./store/private_files.ts";
import { openWorkerStorage, recoverStorage } from "./open_storage.ts";
import { runtimeDir } from "./store/runtime_dir.ts";
import { Supervisor } from "./process/supervisor.ts";
import { runTool } from "./ops/tools.ts";
import { StorageView } from "./ops/storage_view.ts";
import { PgStorageView } from "./ops/pg_storage_view.ts";
import { serveLifeline } from "./ops/metrics_channel.ts";
import { Lottery } from "./lottery.ts";
import { MeteredLottery, meterServing } from "./ops/metered.ts";
import { serve } from "./net/accept_loop.ts";
import {
  READY_LINE,
  spawnWorkerProcess,
  workerCommand,
  workerV8Flags,
} from "./process/worker_process.ts";

const SHUTDOWN_DEADLINE_MS = 5_000;

/**
 * Fail lines a worker rate-limits (see {@linkcode ThrottledLog}): a storm
 * of peers that reset, a full disk, or a peer with a key repeating a
 * refused hello, finish or frame, is a few lines, not thousands.
 */
const THROTTLED_ACTIONS = [
  "accept_connections",
  "apertura",
  "connection_lost",
  "connection_stalled",
  "notificacion_fin",
  "receive_message",
  "storage_write",
];

if (import.meta.main) Deno.exit(await main(Deno.args));

async function main(argv: string[]): Promise<number> {
  const log = createLog("INFO");
  try {
    const args = parseCentralArgs(argv);
    if (args.help || args.version) {
      const text = args.help
        ? centralHelp()
        : versionLine("central", Deno.version.deno) + "\n";
      Deno.stdout.writeSync(new TextEncoder().encode(text));
      return 0;
    }
    if (args.worker) return await workerMain(log);
    const text = await readConfigFile(args.configPath);
    const config = loadCentralConfig(
      text,
      Deno.env.toObject(),
      args.overrides,
      args.tool === null,
    );
    if (args.tool !== null) return await runTool(args.tool, config, args.json);
    log.setLevel(config.loggingLevel);
    if (args.agencyKey !== null) {
      return await printAgencyKey(config, args.agencyKey);
    }
    return await supervisorMain(config, log);
  } catch (error) {
    if (error instanceof ConfigError) {
      log.error("config", "fail", { error: error.message });
      return 2;
    }
    log.error("central", "fail", { error: describe(error) });
    return 1;
  }
}

/**
 * `central agency-key K`: prints agency K's key (and nothing else, for
 * `$(central agency-key K)`), derived from the configured secret, so an
 * operator hands each agency its own key and never the secret.
 */
async function printAgencyKey(
  config: CentralConfig,
  agency: number,
): Promise<number> {
  if (agency > config.agencies) {
    throw new ConfigError(
      "agency-key",
      `${agency} is not an agency: AGENCIES is ${config.agencies}`,
    );
  }
  const key = await agencyKey(config.authSecret, agency);
  Deno.stdout.writeSync(new TextEncoder().encode(key + "\n"));
  return 0;
}

async function supervisorMain(
  given: CentralConfig,
  log: ActionLog,
): Promise<number> {
  const config = {
    ...given,
    port: given.port === 0 ? freePort(given.listenIp) : given.port,
  };
  log.info("config", "success", {
    port: config.port,
    listen_backlog: config.listenBacklog,
    logging_level: config.loggingLevel,
  });
  log.info("central_config", "success", {
    agencies: config.agencies,
    workers: config.workers,
    storage_dir: config.storageDir,
    storage: config.databaseUrl === "" ? "file" : "postgres",
    listen_ip: config.listenIp,
  });
  await makePrivate(config.storageDir);
  using _instance = InstanceLock.acquire(
    join(config.storageDir, INSTANCE_FILE),
  );
  // The port's lock before its probe: a central started at the same moment
  // waits for neither, and one of the two is refused here.
  using _port = InstanceLock.acquire(
    portLockPath(runtimeDir(Deno.env.toObject()), config.port),
    `port ${config.port}`,
    true,
  );
  if (given.port !== 0) probePort(config.listenIp, config.port);
  await recoverStorage(config, log);

  const stop = stopSignal();
  const command = workerCommand(new URL(import.meta.url).href);
  const v8Flags = workerV8Flags(Deno.env.get("DENO_V8_FLAGS"));
  await using supervisor = new Supervisor(
    config.workers,
    () => spawnWorkerProcess(command, config, v8Flags),
    log,
  );
  await Promise.race([supervisor.start(), stop.promise]);
  // prom-client is loaded only when metrics are on: no start-up cost otherwise.
  await using _metrics = config.metricsPort === 0 || stop.signal.aborted
    ? null
    : (await import("./ops/metrics_server.ts")).MetricsServer.start(
      config.listenIp,
      config.metricsPort,
      {
        workers: () => supervisor.workers,
        storage: config.databaseUrl === ""
          ? await StorageView.open(config.storageDir)
          : new PgStorageView(config.databaseUrl),
        agencies: config.agencies,
      },
      log,
    );
  if (!stop.signal.aborted) {
    log.info("central_ready", "success", {
      port: config.port,
      workers: config.workers,
    });
    await stop.promise;
  }
  log.info("shutdown", "in_progress", { signal: stop.reason() });
  await supervisor.stop();
  log.info("workers_closed", "success", { workers: config.workers });
  log.info("shutdown", "success");
  return 0;
}

async function workerMain(logging: Logging): Promise<number> {
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream())
    .getReader();
  const { line: first, rest } = await readLine(lines);
  if (first === null) {
    throw new Error("Cannot start worker: no configuration on stdin");
  }
  const config = JSON.parse(first) as CentralConfig;
  logging.setLevel(config.loggingLevel);
  const stop = stopSignal();
  const metrics = config.metricsPort === 0
    ? null
    : new (await import("./ops/worker_metrics.ts")).WorkerMetrics();
  // The supervisor holds our stdin open; end-of-file means it is gone.
  serveLifeline(lines, rest, async () => await metrics?.snapshot() ?? [])
    .then(() => stop.abort("supervisor_gone"));

  {
    // Each resource is logged as closed right after it closes; a stack
    // disposes in reverse: listener, bets file, ledger, KV, lockfile.
    using resources = new DisposableStack();
    const log = resources.use(new ThrottledLog(logging, THROTTLED_ACTIONS));
    const own = <T extends Disposable>(name: string, resource: T): T => {
      resources.defer(() => log.info(`${name}_closed`, "success"));
      return resources.use(resource);
    };
    await using storage = await openWorkerStorage(config, log, own);
    const deps = { store: storage.store, agencies: config.agencies, log };
    const lottery = metrics === null
      ? new Lottery(deps)
      : new MeteredLottery(deps, metrics);
    const serving = meterServing(
      metrics,
      config.authSecret,
      createHandler(lottery, log),
      createHelloHandler(lottery, log),
    );
    // Unproven peers' lines are bounded by the FailureLog itself, each
    // naming its peer: the throttle (for proven peers) stays out of them.
    const failures = resources.use(new FailureLog(logging));
    const listener = resources.use(listen(config));
    Deno.stderr.writeSync(new TextEncoder().encode(READY_LINE + "\n"));
    await serve(listener, {
      handler: serving.handler,
      backlogBytes: () => lottery.backlogBytes,
      log,
      idleTimeoutMs: config.idleTimeoutMs,
      opening: {
        authenticator: serving.authenticator,
        hello: serving.hello,
        failures,
      },
      maxConnections: config.maxConnections,
      shutdownDeadlineMs: SHUTDOWN_DEADLINE_MS,
      onConnections: serving.onConnections,
      onRefusal: serving.onRefusal,
    }, stop.signal);
  }
  logging.info("worker_stopped", "success", {
    pid: Deno.pid,
    reason: stop.reason(),
  });
  return 0;
}

/** The worker's listener on the shared port, or an error that says where. */
function listen(config: CentralConfig): Deno.TcpListener {
  try {
    return Deno.listen({
      hostname: config.listenIp,
      port: config.port,
      reusePort: true,
      tcpBacklog: config.listenBacklog,
    });
  } catch (error) {
    throw new Error(
      `Cannot listen on ${config.listenIp}:${config.port}: ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
}

/** Reads the first line, and returns what was read past it. */
async function readLine(
  reader: ReadableStreamDefaultReader<string>,
): Promise<{ line: string | null; rest: string }> {
  let text = "";
  for (;;) {
    const lf = text.indexOf("\n");
    if (lf !== -1) return { line: text.slice(0, lf), rest: text.slice(lf + 1) };
    const { value, done } = await reader.read();
    if (done) return { line: text === "" ? null : text, rest: "" };
    text += value;
  }
}

/** SIGTERM or SIGINT (or an explicit abort) as an AbortSignal and a promise. */
function stopSignal() {
  const controller = new AbortController();
  const promise = new Promise<void>((resolve) =>
    controller.signal.addEventListener("abort", () => resolve(), { once: true })
  );
  // The listeners stay for the life of the process: a second signal during
  // shutdown (a process group signalled twice) must not kill it half-way.
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => controller.abort(signal));
  }
  return {
    signal: controller.signal,
    promise,
    abort: (reason: string) => controller.abort(reason),
    reason: () => String(controller.signal.reason ?? ""),
  };
}

/**
 * Refuses to start when anything already listens on the port: the workers
 * bind it with `SO_REUSEPORT`, which would let them join another central's
 * workers (the kernel would split the agencies between the two). This
 * bind has no `SO_REUSEPORT`, so it fails while any listener holds the
 * port. It is closed before the workers bind; a second central started in
 * that gap is refused by the port's lockfile, taken before the probe and
 * held while the central runs. The lockfile is per user (in a private
 * runtime directory): containers, each with its own network namespace, do
 * not share ports anyway.
 */
function probePort(hostname: string, port: number): void {
  try {
    Deno.listen({ hostname, port }).close();
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    throw new Error(
      `Cannot start: ${hostname}:${port} is already served (by another central or another program)`,
      { cause: error },
    );
  }
}

/** Binds port 0 once to learn a free port for all the workers to share. */
function freePort(hostname: string): number {
  using listener = Deno.listen({ hostname, port: 0 });
  return (listener.addr as Deno.NetAddr).port;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
