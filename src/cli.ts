#!/usr/bin/env -S node --max-semi-space-size=1
// A small young generation: a proxy holds many long-lived sockets and makes little short-lived
// garbage, and the default young generation grows to 32 MiB that idle connections then pay for
// (measured: 5.8 instead of 10 KiB of RSS per idle connection, same throughput).
/**
 * The command line: a thin shell over the library. Parses Go-style flags, sets up logging,
 * starts the proxy, and turns signals into log reopening and graceful shutdown.
 *
 * Only what the chosen mode needs is loaded: help, the version and usage errors load none of
 * the proxy; the syslog and file sinks, workers and the profiler load only when asked for.
 */
import * as E from "fp-ts/lib/Either.js";
import { availableParallelism } from "node:os";
import { WORKER_CONFIG_VARIABLE, parseCommandLine } from "./cli/parse.js";
import type { RunOptions } from "./cli/run-options.js";
import { usage } from "./cli/usage.js";
import { type WorkerPlan, workerPlan } from "./cli/worker-plan.js";
import type { Logger } from "./domain/logger.js";
import { formatDuration } from "./domain/duration.js";
import { failbackSignals, onSignals, reopenSignals, shutdownSignals } from "./adapters/signals.js";
import { version } from "./version.js";

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

const fail = (message: string): never => {
  process.stderr.write(`tcp-fallback: ${message}\n`);
  process.exit(EXIT_FAILURE);
};

/** What the CLI runs: one process with everything, or a primary with workers. */
interface Running {
  readonly listening: Promise<unknown>;
  /** Reads the configuration file again and applies it, or refuses it (logged). */
  reloadConfig(): Promise<unknown>;
  close(): Promise<void>;
}

/** Where a reload reads its settings from: the file and the same flags, all checked again. */
type ConfigSource = () => Promise<E.Either<ReadonlyArray<string>, RunOptions>>;

const startCpuProfile = async (path: string) =>
  (await import("./adapters/cpu-profile.js")).startCpuProfile(path);

const runWorkerProcess = async (options: RunOptions, id: number): Promise<void> => {
  const profile =
    options.cpuprofile === undefined
      ? null
      : await startCpuProfile(`${options.cpuprofile}.worker-${id}`);
  (await import("./adapters/workers/worker.js")).runWorker(options, profile);
};

type Start = (
  options: RunOptions,
  plan: WorkerPlan,
  logger: Logger,
  configSource: ConfigSource | undefined,
) => Running;

/** Loads the proxy; with workers, also what forks and feeds them (one process loads none of it). */
const loadProxy = async (withWorkers: boolean): Promise<Start> => {
  const [{ startFallbackProxy }, { failbackPolicy }, { Subject, asyncScheduler }, workers] =
    await Promise.all([
      import("./fallback-proxy.js"),
      import("./streams/failback-policy.js"),
      import("rxjs"),
      withWorkers ? import("./adapters/workers/fleet.js") : null,
    ]);
  return (options, plan, logger, configSource) => {
    // The fleet says how many workers start, after the backends.
    if (workers === null && plan.note !== undefined) logger.info(plan.note);
    const failback$ = new Subject<void>();
    if (options.failback.kind === "manual") {
      onSignals(failbackSignals, (signal) => {
        logger.info(`Failback requested by ${signal}`);
        failback$.next();
      });
    }
    return startFallbackProxy({
      ...options,
      failback$,
      route: failbackPolicy(options.failback, failback$),
      logger,
      scheduler: asyncScheduler,
      dataPlane: workers?.workerFleet(plan),
      configSource,
    });
  };
};

const run = async (options: RunOptions, argv: ReadonlyArray<string>): Promise<void> => {
  const plan = workerPlan(options, availableParallelism());
  // A worker runs this program too, with the same flags, so it makes the same plan.
  const cluster = plan.count > 1 ? (await import("node:cluster")).default : null;
  if (cluster?.isWorker === true) return runWorkerProcess(options, cluster.worker?.id ?? 0);

  // Caught from the start: a signal that comes while the proxy starts stops it once started.
  const earlySignals: NodeJS.Signals[] = [];
  let shutDown = (signal: NodeJS.Signals): void => void earlySignals.push(signal);
  const stopShutdown = onSignals(shutdownSignals, (signal) => {
    stopShutdown();
    shutDown(signal);
  });

  // The proxy's modules load while profiling and logging are set up.
  const loading = loadProxy(cluster !== null);
  const profile =
    options.cpuprofile === undefined ? null : await startCpuProfile(options.cpuprofile);
  const { setUpLogging } = await import("./adapters/log-setup.js");
  const { logger, sink } = await setUpLogging(options).catch((error: Error) => fail(error.message));
  logger.info(`Starting tcp-fallback ver ${version}`);
  const configSource = options.config === undefined ? undefined : fileSource(argv);
  if (options.config !== undefined)
    process.env[WORKER_CONFIG_VARIABLE] = JSON.stringify((options as { file?: unknown }).file);
  const running = (await loading)(options, plan, logger, configSource);
  // With a configuration file, SIGHUP reloads it and only SIGUSR1 reopens the log.
  const stopReopening = onSignals(
    configSource === undefined ? reopenSignals : ["SIGUSR1"],
    (signal) => {
      sink.reopen();
      logger.info(`Log reopened on ${signal}`);
    },
  );
  const stopReloading =
    configSource === undefined
      ? () => undefined
      : onSignals(["SIGHUP"], (signal) => {
          logger.info(`Reloading ${options.config ?? ""} on ${signal}`);
          void running.reloadConfig();
        });
  const release = async (): Promise<void> => {
    stopReopening();
    stopReloading();
    await profile?.stop();
    await sink.close();
  };
  shutDown = (signal) => {
    logger.info(
      `Received ${signal}: closing, draining connections for up to ${formatDuration(options.drainTimeoutMs)}`,
    );
    void (async () => {
      await running.close();
      logger.info("Stopped");
      await release();
      process.exit(0);
    })();
  };
  const [earlySignal] = earlySignals;
  if (earlySignal !== undefined) shutDown(earlySignal);
  try {
    await running.listening;
  } catch (error) {
    logger.error((error as Error).message);
    await release();
    fail((error as Error).message);
  }
};

/** The file and the same flags, read and checked again; a worker's copy is updated. */
const fileSource =
  (argv: ReadonlyArray<string>): ConfigSource =>
  async () => {
    const command = await parseCommandLine(argv);
    if (E.isLeft(command)) return E.left(command.left.message.split("\n"));
    if (command.right.kind !== "run") return E.left(["not a run of the proxy"]);
    process.env[WORKER_CONFIG_VARIABLE] = JSON.stringify(command.right.file);
    return E.right(command.right);
  };

const main = async (argv: ReadonlyArray<string>): Promise<void> => {
  const command = await parseCommandLine(argv);
  if (E.isLeft(command)) {
    process.stderr.write(
      `tcp-fallback: ${command.left.message}\nRun 'tcp-fallback -h' for usage.\n`,
    );
    process.exit(EXIT_USAGE);
  }
  switch (command.right.kind) {
    case "help":
      process.stdout.write(`${usage}\n`);
      return;
    case "version":
      process.stdout.write(`tcp-fallback ${version}\n`);
      return;
    case "check-config":
      process.stdout.write(`${effectiveSettings(command.right)}\n`);
      return;
    case "run":
      void run(command.right, argv);
  }
};

/** The settings a file and the flags make, as JSON, secrets left out. */
const effectiveSettings = (options: RunOptions & { readonly file?: unknown }): string => {
  const {
    file: _file,
    kind: _kind,
    ...settings
  } = options as RunOptions & {
    file?: unknown;
    kind?: string;
  };
  const hidden = "(set, not shown)";
  return JSON.stringify(
    {
      ...settings,
      checkCredentials: {
        ...settings.checkCredentials,
        ...(settings.checkCredentials.password === undefined ? {} : { password: hidden }),
      },
      ...(settings.admin === undefined
        ? {}
        : {
            admin: {
              ...settings.admin,
              ...(settings.admin.token === undefined ? {} : { token: hidden }),
            },
          }),
    },
    null,
    2,
  );
};

void main(process.argv.slice(2));
