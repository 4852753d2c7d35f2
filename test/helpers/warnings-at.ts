import type { Logger } from "../../src/domain/logger.js";

/** A logger that notes each warning with the (virtual) time it was written at. */
export const warningsAt = (now: () => number): { logger: Logger; lines: string[] } => {
  const lines: string[] = [];
  const ignore = (): void => undefined;
  const logger: Logger = {
    debug: ignore,
    info: ignore,
    warn: (message) => lines.push(`${now()} ${message}`),
    error: ignore,
    debugEnabled: false,
  };
  return { logger, lines };
};
