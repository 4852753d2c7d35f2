import type { LogFields, LogLevelName } from "../../domain/logger.js";

/** Where formatted log lines end up (stderr, a file, syslog). The logger only knows this. */
export interface LogSink {
  /**
   * Never throws: a broken log destination must not take the proxy down. `fields` are for
   * structured formats; the others leave them out.
   */
  write(level: LogLevelName, message: string, fields?: LogFields): void;
  /** Re-acquire the destination (log rotation on SIGUSR1); a no-op where meaningless. */
  reopen(): void;
  /** Flush what was written and release the destination. */
  close(): Promise<void>;
}
