import type { LogFields, Logger } from "../domain/logger.js";
import { formatDuration } from "../domain/duration.js";
import type { ProxyEvent } from "../domain/proxy-event.js";
import { type StatsSnapshot, formatStatsLines } from "../domain/stats.js";

/** What a structured log line about `event` carries besides its message. */
export const eventFields = (event: ProxyEvent): LogFields =>
  "backend" in event ? { event: event.type, backend: event.backend.label } : { event: event.type };

/** Writes a proxy event as the log line existing monitoring already parses. */
export const logProxyEvent = (base: Logger, event: ProxyEvent): void => {
  // Structured formats also get what the line is about; the others build nothing more.
  const logger = base.withFields?.(eventFields(event)) ?? base;
  switch (event.type) {
    case "connect-failed":
    case "probe-failed":
      logger.warn(`Failed to connect to backend ${event.backend.label}: ${event.reason}`);
      return;
    case "backend-down":
      logger.info(`Backend ${event.backend.label} is down: ${event.reason}`);
      return;
    case "backend-up":
      logger.info(
        `Backend is back ${event.backend.label}, downtime: ${formatDuration(event.downtimeMs)}`,
      );
      return;
    case "backend-rising":
      logger.info(
        `Backend ${event.backend.label} passed a check (${event.passed}/${event.rise} to come back)`,
      );
      return;
    case "backend-falling":
      // The failure itself has its own line: this one says how close to down it is.
      logger.info(
        `Backend ${event.backend.label} still up (${event.failed}/${event.fall} failures to be marked down)`,
      );
      return;
    case "backend-admin":
      logger.info(
        event.action === "enable"
          ? `Backend ${event.backend.label} enabled by admin: its checks decide again`
          : `Backend ${event.backend.label} set to ${event.action} by admin`,
      );
      return;
    case "no-backend":
      logger.warn("Failed to connect to any backend");
      return;
    case "error":
      logger.error(`Route policy failed: ${event.message}`);
      return;
    case "warning":
      logger.warn(`Route policy: ${event.message}`);
      return;
    case "sessions-closed":
      logger.info(
        `Closing connections of backend ${event.backend.label}: ${event.reason === "failback" ? `failback to ${event.to.label}` : event.reason}`,
      );
      return;
    case "config-reloaded": {
      const list = (backends: ReadonlyArray<{ readonly label: string }>): string =>
        backends.length === 0 ? "none" : backends.map((b) => b.label).join(", ");
      logger.info(
        `Configuration reloaded: added ${list(event.added)}; removed ${list(event.removed)}; changed ${list(event.changed)}`,
      );
      return;
    }
    case "config-refused":
      logger.error(
        `Configuration reload refused, the running one stays: ${event.problems.join("; ")}`,
      );
      return;
  }
};

/**
 * A log of events for one proxy: a down backend whose check keeps failing for the same reason
 * (a replica, every check interval) gets one warning, then debug lines until its reason changes
 * or it comes back.
 */
export const eventLog = (logger: Logger): ((event: ProxyEvent) => void) => {
  const lastReason = new Map<number, string>();
  return (event) => {
    if (event.type === "probe-failed") {
      const repeated = lastReason.get(event.backend.index) === event.reason;
      lastReason.set(event.backend.index, event.reason);
      if (repeated) {
        if (logger.debugEnabled)
          logger.debug(`Failed to connect to backend ${event.backend.label}: ${event.reason}`);
        return;
      }
    } else if (event.type === "backend-up") lastReason.delete(event.backend.index);
    logProxyEvent(logger, event);
  };
};

export const logStats = (logger: Logger, snapshot: StatsSnapshot): void => {
  for (const line of formatStatsLines(snapshot)) logger.info(line);
};
