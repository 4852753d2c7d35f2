import type { LogFields, LogLevelName } from "../../domain/logger.js";

/** How stderr and -logfile lines look: Go-style text, or one JSON object per line. */
export type LogFormat = "text" | "json";

/** One log line, without a trailing newline: the sink decides framing. */
export type LineFormat = (
  at: Date,
  level: LogLevelName,
  message: string,
  fields?: LogFields,
) => string;

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/**
 * One log line in Go's `log` timestamp layout (`YYYY/MM/DD HH:MM:SS`, local time) so the output
 * reads like the logs operators already grep. No trailing newline: the sink decides framing.
 */
export function formatLogLine(at: Date, level: LogLevelName, message: string): string {
  const date = `${pad(at.getFullYear(), 4)}/${pad(at.getMonth() + 1)}/${pad(at.getDate())}`;
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  return `${date} ${time} ${level.toUpperCase()} ${message}`;
}

/** `{"time":"<ISO 8601, UTC>","level":"info","msg":"..."}` then the line's fields, if any. */
export function formatJsonLine(
  at: Date,
  level: LogLevelName,
  message: string,
  fields?: LogFields,
): string {
  const line: Record<string, unknown> = { time: at.toISOString(), level, msg: message };
  // The fixed keys win: a field cannot pass itself off as the message.
  for (const key in fields) if (!Object.hasOwn(line, key)) line[key] = fields[key];
  return JSON.stringify(line);
}

/** sd-daemon's priority prefixes, which the journal turns into each line's priority. */
const JOURNAL_PRIORITY: Record<LogLevelName, string> = {
  debug: "<7>",
  info: "<6>",
  warn: "<4>",
  error: "<3>",
};

/**
 * The format a sink writes with. The journal stamps every line itself and reads its priority
 * from a `<N>` prefix (which it strips): a text line there is just `INFO message`.
 */
export function lineFormat(format: LogFormat, journal = false): LineFormat {
  if (!journal) return format === "json" ? formatJsonLine : formatLogLine;
  return format === "json"
    ? (at, level, message, fields) =>
        JOURNAL_PRIORITY[level] + formatJsonLine(at, level, message, fields)
    : (_at, level, message) => `${JOURNAL_PRIORITY[level]}${level.toUpperCase()} ${message}`;
}
