import log from "loglevel";

import type { Logger, LogLevelName } from "../../domain/logger.js";
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
    return (...message: unknown[]) => sink.write(target, message.map(String).join(" "));
  };
  // setLevel rebuilds the methods with the factory above; don't persist (browser-only storage).
  inner.setLevel(level, false);
  return {
    debug: (message) => inner.debug(message),
    info: (message) => inner.info(message),
    warn: (message) => inner.warn(message),
    error: (message) => inner.error(message),
    debugEnabled: level === "debug",
  };
}
