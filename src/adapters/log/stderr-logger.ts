import type { LogLevelName, Logger } from "../../domain/logger.js";
import { createLogger } from "./logger.js";
import { streamSink } from "./stream-sink.js";

/**
 * A ready Logger for programs: lines to stderr in the CLI's format, from `level` up (info by
 * default). Each call makes its own logger.
 */
export const stderrLogger = (level: LogLevelName | "silent" = "info"): Logger =>
  createLogger(streamSink(process.stderr), level);
