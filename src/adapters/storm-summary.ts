import { type OneShotScheduler, oneShotTimers } from "./one-shot-timers.js";

/**
 * What a log of storms counts: the first of a storm is told in full at once, the rest are
 * counted and told as one summary per interval, and nothing is said once they stop (the next
 * one starts a storm of its own).
 */
export class StormSummary {
  private unreported = 0;
  /** The end of the current interval; null while quiet. */
  private interval: { unsubscribe(): void } | null = null;

  constructor(
    /** Tells how many more came in the interval (at least one). */
    private readonly summarize: (count: number) => void,
    private readonly scheduler: OneShotScheduler = oneShotTimers,
    private readonly intervalMs = 1_000,
  ) {}

  /** True for the first of a storm, to be told in full; false when it was counted. */
  first(): boolean {
    if (this.interval !== null) {
      this.unreported++;
      return false;
    }
    this.startInterval();
    return true;
  }

  /** Tells what is still unreported now, and stops counting (at shutdown). */
  flush(): void {
    this.interval?.unsubscribe();
    this.interval = null;
    this.report();
  }

  private startInterval(): void {
    this.interval = this.scheduler.schedule(() => {
      this.interval = null;
      // A whole interval with none: the next one is told in full again.
      if (this.report()) this.startInterval();
    }, this.intervalMs);
  }

  private report(): boolean {
    if (this.unreported === 0) return false;
    const count = this.unreported;
    this.unreported = 0;
    this.summarize(count);
    return true;
  }
}
