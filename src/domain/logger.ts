/** The logging port. Adapters back it with loglevel and a sink (stderr, file, syslog). */
export type LogLevelName = "debug" | "info" | "warn" | "error";

/** What a line is about, for structured log formats (e.g. `{ event: "backend-down" }`). */
export type LogFields = Readonly<Record<string, string | number | boolean>>;

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Lets hot paths skip building debug lines nobody will see. */
  readonly debugEnabled: boolean;
  /**
   * A logger whose lines carry `fields` too; absent where no format has room for them (callers
   * then log through this one, and the fields are simply not built).
   */
  readonly withFields?: (fields: LogFields) => Logger;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debugEnabled: false,
};
