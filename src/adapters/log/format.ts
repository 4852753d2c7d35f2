import type { LogLevelName } from "../../domain/logger.js";

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
