import type { LogFields, LogLevelName } from "../../domain/logger.js";
import { type LineFormat, formatLogLine } from "./format.js";
import type { LogSink } from "./sink.js";

/** Writes formatted lines to a stream it does not own (typically process.stderr). */
export function streamSink(
  stream: NodeJS.WritableStream,
  now: () => Date = () => new Date(),
  format: LineFormat = formatLogLine,
): LogSink {
  let inFlight = 0;
  let closed = false;
  const idle: Array<() => void> = [];
  // An EPIPE on stderr must not crash the proxy, and there is nowhere else to report it.
  const ignoreError = (): void => undefined;
  stream.on("error", ignoreError);

  const settled = (): void => {
    inFlight -= 1;
    if (inFlight === 0) idle.splice(0).forEach((resolve) => resolve());
  };

  return {
    write(level: LogLevelName, message: string, fields?: LogFields): void {
      if (closed) return;
      inFlight += 1;
      try {
        stream.write(`${format(now(), level, message, fields)}\n`, settled);
      } catch {
        settled();
      }
    },
    reopen(): void {},
    close(): Promise<void> {
      closed = true;
      // Wait for our own writes only; ending the stream is its owner's business.
      const done =
        inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve));
      return done.then(() => {
        stream.removeListener("error", ignoreError);
      });
    },
  };
}
