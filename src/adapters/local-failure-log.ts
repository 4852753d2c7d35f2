import type { Logger } from "../domain/logger.js";

import { type OneShotScheduler, oneShotTimers } from "./one-shot-timers.js";
import { StormSummary } from "./storm-summary.js";

export type { OneShotScheduler } from "./one-shot-timers.js";

/**
 * Logs clients closed because a dial failed for a local reason. Such failures come in storms
 * (while descriptors are out, every client fails), so the first is a warning at once, the rest
 * a count per interval, and nothing once they stop.
 */
export class LocalFailureLog {
  private lastReason = "";
  private readonly storm: StormSummary;

  constructor(
    private readonly logger: Logger,
    scheduler: OneShotScheduler = oneShotTimers,
    intervalMs = 1_000,
  ) {
    this.storm = new StormSummary(
      (count) =>
        logger.warn(
          `Cannot dial backends: ${count} more client(s) closed for a local reason, ` +
            `the last: ${this.lastReason}`,
        ),
      scheduler,
      intervalMs,
    );
  }

  record(backendLabel: string, reason: string): void {
    if (!this.storm.first()) {
      this.lastReason = reason;
      return;
    }
    this.logger.warn(
      `Cannot dial backend ${backendLabel}: ${reason}, a local limit: ` +
        "client closed, backend health unchanged",
    );
  }

  /** Reports what is still unreported now, and stops counting (at shutdown). */
  flush(): void {
    this.storm.flush();
  }
}
