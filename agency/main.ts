/**
 * `agency`: a lottery agency. Loads its configuration, logs it, and runs the
 * stage its `mode` picks: the echo loop, one bet, or the whole lottery. It
 * exits 0 on success and on SIGTERM/SIGINT (after closing what it holds),
 * 1 on a failure, 2 on a configuration error. This is the only module of the
 * agency that reads the environment.
 */
import { readConfigFile } from "../lib/cli.ts";
import { ConfigError } from "../lib/config_error.ts";
import { formatDuration } from "../lib/duration.ts";
import { type ActionLog, createLog } from "../lib/log.ts";
import { versionLine } from "../lib/version.ts";
import { BetFileError } from "./bet_file.ts";
import { runBetStage } from "./bet_stage.ts";
import {
  CentralClient,
  CentralUnreachableError,
  DEFAULT_CLIENT_OPTIONS,
  StoppedError,
} from "./central_client.ts";
import { CentralRefusedError } from "./central_refused_error.ts";
import {
  type AgencyConfig,
  agencyHelp,
  loadAgencyConfig,
  parseAgencyArgs,
} from "./config.ts";
import { runEchoStage } from "./echo_stage.ts";
import { DrawTimeoutError, runLotteryStage } from "./lottery_stage.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));

async function main(argv: string[]): Promise<number> {
  const log = createLog("INFO");
  let config: AgencyConfig;
  try {
    const args = parseAgencyArgs(argv);
    if (args.help || args.version) {
      const text = args.help
        ? agencyHelp()
        : versionLine("agency", Deno.version.deno) + "\n";
      Deno.stdout.writeSync(new TextEncoder().encode(text));
      return 0;
    }
    const text = await readConfigFile(args.configPath);
    config = loadAgencyConfig(
      text,
      Deno.env.toObject(),
      args.overrides,
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error("config", "fail", { error: error.message });
    return 2;
  }
  log.setLevel(config.logLevel);
  log.info("config", "success", {
    client_id: config.id,
    server_address: config.serverAddress,
    loop_amount: config.loopAmount,
    loop_period: formatDuration(config.loopPeriodNs),
    log_level: config.logLevel,
  });
  log.info("agency_config", "success", {
    mode: config.mode,
    data_path: config.dataPath,
    batch_max_amount: config.batchMaxAmount,
    draw_timeout: formatDuration(config.drawTimeoutNs),
  });

  const controller = new AbortController();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => controller.abort(signal));
  }
  const stop = controller.signal;
  const periodMs = config.loopPeriodNs / 1e6;
  try {
    if (config.mode === "echo") {
      await runEchoStage({
        id: config.id,
        hostname: config.hostname,
        port: config.port,
        amount: config.loopAmount,
        periodMs,
        dial: DEFAULT_CLIENT_OPTIONS.dial,
        attempts: config.retryAttempts,
        log,
        stop,
      });
    } else {
      using client = new CentralClient(
        config.hostname,
        config.port,
        log,
        stop,
        {
          attempts: config.retryAttempts,
          key: config.authKey,
          others: config.addresses.slice(1),
        },
      );
      try {
        if (config.mode === "bet") {
          await runBetStage(config.id, config.bet!, client, log);
        } else {
          await runLotteryStage({
            id: config.id,
            dataPath: config.dataPath,
            batchMaxAmount: config.batchMaxAmount,
            periodMs,
            drawTimeoutMs: config.drawTimeoutNs / 1e6,
            client,
            log,
            stop,
          });
        }
      } finally {
        client[Symbol.dispose]();
        log.info("connection_closed", "success", { client_id: config.id });
        if (config.mode === "lottery") {
          log.info("bets_file_closed", "success", { client_id: config.id });
        }
      }
    }
    return 0;
  } catch (error) {
    return report(error, config, log);
  }
}

/** Logs how the run ended and returns the exit code. */
function report(error: unknown, config: AgencyConfig, log: ActionLog): number {
  const id = config.id;
  if (error instanceof StoppedError) {
    log.info("shutdown", "success", { client_id: id });
    return 0;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof BetFileError) {
    log.error("lectura_apuestas", "fail", {
      client_id: id,
      archivo: error.path,
      linea: error.line,
      error: message,
    });
  } else if (config.mode === "bet" && config.bet !== null) {
    log.error("apuesta_enviada", "fail", {
      dni: config.bet.document,
      numero: config.bet.number,
      error: message,
    });
  } else if (
    error instanceof CentralRefusedError ||
    error instanceof CentralUnreachableError ||
    error instanceof DrawTimeoutError
  ) {
    log.error(config.mode === "echo" ? "receive_message" : "lottery", "fail", {
      client_id: id,
      error: message + unresolvedHint(error, config),
    });
  } else {
    log.error("agency", "fail", { client_id: id, error: message });
  }
  return 1;
}

/**
 * What to change when the central's name does not resolve: on the host
 * (`deno task agency` with the compose file's `server:12345`) the central of
 * `deno task central` is at 127.0.0.1.
 */
function unresolvedHint(error: unknown, config: AgencyConfig): string {
  const cause = (error as Error).cause;
  const unresolved = cause instanceof Error &&
    /failed to lookup address|name resolution/i.test(cause.message);
  return unresolved
    ? ` (${config.hostname} does not resolve here; on this host run the agency with --server-address 127.0.0.1:${config.port})`
    : "";
}
