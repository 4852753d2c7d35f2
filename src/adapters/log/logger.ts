import log from "loglevel";

import type { LogFields, Logger, LogLevelName } from "../../domain/logger.js";
import type { LogSink } from "./sink.js";

/**
 * A Logger that filters with loglevel and writes through `sink`. Each call gets its own loglevel
 * logger (keyed by a fresh Symbol, as loglevel caches loggers by name), so loggers with different
 * sinks or levels never share state.
 */
export function createLogger(
  sink: LogSink,
  level: LogLevelName | "silent",
  name = "tcp-fallback",
): Logger {
  const inner = log.getLogger(Symbol(name));
  inner.methodFactory = (methodName) => {
    // loglevel also has trace; the port does not, so it counts as debug.
    const target: LogLevelName = methodName === "trace" ? "debug" : methodName;
    return (message: unknown, fields?: LogFields) => sink.write(target, String(message), fields);
  };
  // setLevel rebuilds the methods with the factory above; don't persist (browser-only storage).
  inner.setLevel(level, false);
  const debugEnabled = level === "debug";
  const carrying = (fields: LogFields | undefined): Logger => ({
    debug: (message) => inner.debug(message, fields),
    info: (message) => inner.info(message, fields),
    warn: (message) => inner.warn(message, fields),
    error: (message) => inner.error(message, fields),
    debugEnabled,
    withFields: (more) => carrying(fields === undefined ? more : { ...fields, ...more }),
  });
  return carrying(undefined);
}
