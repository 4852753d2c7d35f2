import type { LogLevelName, Logger } from "../domain/logger.js";
import { type LogFormat, lineFormat } from "./log/format.js";
import { isJournalStream } from "./log/journal.js";
import { createLogger } from "./log/logger.js";
import type { LogSink } from "./log/sink.js";
import { streamSink } from "./log/stream-sink.js";

export interface LogSettings {
  readonly debug: boolean;
  readonly quiet: boolean;
  readonly syslog: boolean;
  readonly syslogSocket: string;
  readonly logfile: string | undefined;
  /** Of stderr and -logfile lines; syslog keeps its own. */
  readonly logFormat: LogFormat;
}

export interface LogSetup {
  readonly logger: Logger;
  readonly sink: LogSink;
}

const levelOf = (settings: LogSettings): LogLevelName | "silent" =>
  settings.quiet ? "silent" : settings.debug ? "debug" : "info";

/**
 * The syslog sink, loaded only when asked for: it needs unix-dgram, an optional dependency with a
 * native module that may not be installed (or may have failed to build).
 */
const loadSyslogSink = async (): Promise<typeof import("./log/syslog-sink.js")> => {
  try {
    return await import("./log/syslog-sink.js");
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    const firstLine = (String(message).split("\n")[0] ?? "").replace(/:\s*$/, "");
    throw new Error(
      code === "ERR_MODULE_NOT_FOUND" && String(message).includes("'unix-dgram'")
        ? "-syslog needs the optional package unix-dgram, which is not installed " +
            "(npm install unix-dgram; it builds a native module with python3, make and a C++ compiler)"
        : `-syslog needs the optional package unix-dgram, which failed to load: ${firstLine} ` +
            "(npm rebuild unix-dgram)",
      { cause: error },
    );
  }
};

/**
 * Picks the sink the flags ask for: syslog, a log file, or stderr (in the journal's format when
 * it is the journal: JOURNAL_STREAM names it). Rejects with a message naming
 * the file or socket when it cannot be opened, or the package -syslog needs when it is missing.
 */
export const setUpLogging = async (
  settings: LogSettings,
  journalStream = process.env["JOURNAL_STREAM"],
): Promise<LogSetup> => {
  const now = (): Date => new Date();
  const sink = settings.quiet
    ? streamSink(process.stderr)
    : settings.syslog
      ? await (await loadSyslogSink()).openSyslogSink(settings.syslogSocket)
      : settings.logfile !== undefined
        ? await (
            await import("./log/file-sink.js")
          ).openFileSink(settings.logfile, now, lineFormat(settings.logFormat))
        : streamSink(
            process.stderr,
            now,
            // Under a service manager, stderr may be the journal, which stamps lines itself.
            lineFormat(settings.logFormat, isJournalStream(journalStream)),
          );
  return { logger: createLogger(sink, levelOf(settings)), sink };
};
