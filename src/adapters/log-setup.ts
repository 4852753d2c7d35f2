import type { LogLevelName, Logger } from "../domain/logger.js";
import { createLogger } from "./log/logger.js";
import type { LogSink } from "./log/sink.js";
import { streamSink } from "./log/stream-sink.js";

export interface LogSettings {
  readonly debug: boolean;
  readonly quiet: boolean;
  readonly syslog: boolean;
  readonly syslogSocket: string;
  readonly logfile: string | undefined;
}

export interface LogSetup {
  readonly logger: Logger;
  readonly sink: LogSink;
}

const levelOf = (settings: LogSettings): LogLevelName | "silent" =>
  settings.quiet ? "silent" : settings.debug ? "debug" : "info";

/**
 * Picks the sink the flags ask for: syslog, a log file, or stderr. Rejects with a message naming
 * the file or socket when it cannot be opened.
 */
export const setUpLogging = async (settings: LogSettings): Promise<LogSetup> => {
  const sink = settings.quiet
    ? streamSink(process.stderr)
    : settings.syslog
      ? // Loaded only when asked for: it brings a native module.
        await (await import("./log/syslog-sink.js")).openSyslogSink(settings.syslogSocket)
      : settings.logfile !== undefined
        ? await (await import("./log/file-sink.js")).openFileSink(settings.logfile)
        : streamSink(process.stderr);
  return { logger: createLogger(sink, levelOf(settings)), sink };
};
