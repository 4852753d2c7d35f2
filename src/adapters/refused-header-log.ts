import type { Logger } from "../domain/logger.js";
import type { OneShotScheduler } from "./one-shot-timers.js";
import { StormSummary } from "./storm-summary.js";

/**
 * Logs clients closed for a missing or malformed PROXY protocol header. A misconfigured peer
 * (or a scanner) sends such clients in storms, so the first is a warning at once, the rest a
 * count per interval with the last reason, and nothing once they stop.
 */
export class RefusedHeaderLog {
  private lastPeer = "";
  private lastReason = "";
  private readonly storm: StormSummary;

  constructor(
    private readonly logger: Logger,
    scheduler?: OneShotScheduler,
    intervalMs?: number,
  ) {
    this.storm = new StormSummary(
      (count) =>
        logger.warn(
          `${count} more client(s) closed for a bad PROXY protocol header, the last ` +
            `${this.lastPeer}: ${this.lastReason}`,
        ),
      scheduler,
      intervalMs,
    );
  }

  record(peer: string, reason: string): void {
    if (this.storm.first()) {
      this.logger.warn(`Client ${peer} closed: bad PROXY protocol header: ${reason}`);
      return;
    }
    this.lastPeer = peer;
    this.lastReason = reason;
  }

  /** Reports what is still unreported now, and stops counting (at shutdown). */
  flush(): void {
    this.storm.flush();
  }
}
