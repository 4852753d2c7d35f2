import type { Logger } from "../domain/logger.js";

import { type OneShotScheduler, oneShotTimers } from "./one-shot-timers.js";

export type { OneShotScheduler } from "./one-shot-timers.js";

/**
 * Logs clients closed because a dial failed for a local reason. Such failures come in storms
 * (while descriptors are out, every client fails), so the first is a warning at once, the rest
 * a count per interval, and nothing once they stop.
 */
export class LocalFailureLog {
  private unreported = 0;
  private lastReason = "";
  /** The end of the current interval; null while quiet. */
  private interval: { unsubscribe(): void } | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly scheduler: OneShotScheduler = oneShotTimers,
    private readonly intervalMs = 1_000,
  ) {}

  record(backendLabel: string, reason: string): void {
    if (this.interval !== null) {
      this.unreported++;
      this.lastReason = reason;
      return;
    }
    this.logger.warn(
      `Cannot dial backend ${backendLabel}: ${reason}, a local limit: ` +
        "client closed, backend health unchanged",
    );
    this.startInterval();
  }

  /** Reports what is still unreported now, and stops counting (at shutdown). */
  flush(): void {
    this.interval?.unsubscribe();
    this.interval = null;
    this.reportUnreported();
  }

  private startInterval(): void {
    this.interval = this.scheduler.schedule(() => {
      this.interval = null;
      // A whole interval without failures: the next one is a warning of its own again.
      if (this.reportUnreported()) this.startInterval();
    }, this.intervalMs);
  }

  private reportUnreported(): boolean {
    if (this.unreported === 0) return false;
    this.logger.warn(
      `Cannot dial backends: ${this.unreported} more client(s) closed for a local reason, ` +
        `the last: ${this.lastReason}`,
    );
    this.unreported = 0;
    return true;
  }
}
