/** The logging port. Adapters back it with loglevel and a sink (stderr, file, syslog). */
export type LogLevelName = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Lets hot paths skip building debug lines nobody will see. */
  readonly debugEnabled: boolean;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debugEnabled: false,
};
