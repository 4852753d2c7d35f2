#!/usr/bin/env node
/**
 * The command line: a thin shell over the library. Parses Go-style flags, sets up logging,
 * starts the proxy, and turns signals into log reopening and graceful shutdown.
 */
import * as E from "fp-ts/lib/Either.js";
import { asyncScheduler } from "rxjs";
import { type RunOptions, parseCommandLine, usage } from "./domain/command-line.js";
import { formatDuration } from "./domain/duration.js";
import { type CpuProfile, startCpuProfile } from "./adapters/cpu-profile.js";
import { setUpLogging } from "./adapters/log-setup.js";
import { onSignals, reopenSignals, shutdownSignals } from "./adapters/signals.js";
import { firstHealthy, startFallbackProxy } from "./index.js";
import { version } from "./version.js";

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

const fail = (message: string): never => {
  process.stderr.write(`tcp-fallback: ${message}\n`);
  process.exit(EXIT_FAILURE);
};

const run = async (options: RunOptions): Promise<void> => {
  const profile: CpuProfile | null =
    options.cpuprofile === undefined ? null : await startCpuProfile(options.cpuprofile);
  const { logger, sink } = await setUpLogging(options).catch((error: Error) => fail(error.message));
  logger.info(`Starting tcp-fallback ver ${version}`);
  if (options.maxthreads !== undefined) {
    logger.info(
      `-maxthreads=${options.maxthreads} accepted for compatibility: this version runs one process`,
    );
  }
  const proxy = startFallbackProxy({
    ...options,
    route: firstHealthy,
    logger,
    scheduler: asyncScheduler,
  });
  const stopReopening = onSignals(reopenSignals, (signal) => {
    sink.reopen();
    logger.info(`Log reopened on ${signal}`);
  });
  const stopShutdown = onSignals(shutdownSignals, (signal) => {
    stopShutdown();
    logger.info(
      `Received ${signal}: closing, draining connections for up to ${formatDuration(options.drainTimeoutMs)}`,
    );
    void (async () => {
      await proxy.close();
      logger.info("Stopped");
      stopReopening();
      await profile?.stop();
      await sink.close();
      process.exit(0);
    })();
  });
  try {
    await proxy.listening;
  } catch (error) {
    logger.error((error as Error).message);
    await profile?.stop();
    await sink.close();
    fail((error as Error).message);
  }
};

const main = (argv: ReadonlyArray<string>): void => {
  const command = parseCommandLine(argv);
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
    case "run":
      void run(command.right);
  }
};

main(process.argv.slice(2));
