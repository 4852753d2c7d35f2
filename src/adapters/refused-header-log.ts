import type { Logger } from "../domain/logger.js";
import { type OneShotScheduler, oneShotTimers } from "./one-shot-timers.js";

/**
 * Logs clients closed for a missing or malformed PROXY protocol header. A misconfigured peer
 * (or a scanner) sends such clients in storms, so the first is a warning at once, the rest a
 * count per interval with the last reason, and nothing once they stop.
 */
export class RefusedHeaderLog {
  private unreported = 0;
  private lastPeer = "";
  private lastReason = "";
  /** The end of the current interval; null while quiet. */
  private interval: { unsubscribe(): void } | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly scheduler: OneShotScheduler = oneShotTimers,
    private readonly intervalMs = 1_000,
  ) {}

  record(peer: string, reason: string): void {
    if (this.interval !== null) {
      this.unreported++;
      this.lastPeer = peer;
      this.lastReason = reason;
      return;
    }
    this.logger.warn(`Client ${peer} closed: bad PROXY protocol header: ${reason}`);
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
      // A whole interval without refusals: the next one is a warning of its own again.
      if (this.reportUnreported()) this.startInterval();
    }, this.intervalMs);
  }

  private reportUnreported(): boolean {
    if (this.unreported === 0) return false;
    this.logger.warn(
      `${this.unreported} more client(s) closed for a bad PROXY protocol header, the last ` +
        `${this.lastPeer}: ${this.lastReason}`,
    );
    this.unreported = 0;
    return true;
  }
}
