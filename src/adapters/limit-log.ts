import type { Backend } from "../domain/backend.js";
import type { Logger } from "../domain/logger.js";
import { type OneShotScheduler, oneShotTimers } from "./one-shot-timers.js";

/**
 * Logs what the connection limits do. A limit acts in storms (every new client while a backend
 * is full), so the first act of a kind is a line at once, the rest a count per interval, and
 * nothing once they stop.
 */
export class LimitLog {
  /** Kinds heard of in the current interval: acts not yet logged, and how to say so. */
  private readonly unreported = new Map<
    string,
    { count: number; readonly summary: (count: number) => string }
  >();
  private interval: { unsubscribe(): void } | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly scheduler: OneShotScheduler = oneShotTimers,
    private readonly intervalMs = 1_000,
  ) {}

  /** A new client skipped this backend: it has its `maxconn` live connections. */
  backendFull(backend: Backend): void {
    const key = `full:${backend.index}`;
    if (this.counted(key)) return;
    this.logger.warn(
      `Backend ${backend.label} is full (maxconn=${backend.maxconn ?? "?"}): new clients go to the next backend`,
    );
    this.track(
      key,
      (count) => `Backend ${backend.label} full: ${count} more client(s) went to the next backend`,
    );
  }

  /** Accepting paused: this process has `maxconn` live clients. */
  acceptPaused(maxconn: number): void {
    if (this.counted("paused")) return;
    this.logger.warn(
      `Accepting paused at ${maxconn} live connections (-maxconn): new clients wait in the backlog`,
    );
    this.track(
      "paused",
      (count) => `Accepting paused ${count} more time(s) at -maxconn=${maxconn}`,
    );
  }

  /** Logs what is still unreported now, and stops counting (at shutdown). */
  flush(): void {
    this.interval?.unsubscribe();
    this.interval = null;
    this.report();
    this.unreported.clear();
  }

  private counted(key: string): boolean {
    const entry = this.unreported.get(key);
    if (entry === undefined) return false;
    entry.count++;
    return true;
  }

  private track(key: string, summary: (count: number) => string): void {
    this.unreported.set(key, { count: 0, summary });
    if (this.interval === null) this.startInterval();
  }

  private startInterval(): void {
    this.interval = this.scheduler.schedule(() => {
      this.interval = null;
      this.report();
      if (this.unreported.size > 0) this.startInterval();
    }, this.intervalMs);
  }

  /** Logs each kind's count; a kind without acts for a whole interval is forgotten. */
  private report(): void {
    for (const [key, entry] of this.unreported) {
      if (entry.count === 0) {
        this.unreported.delete(key);
        continue;
      }
      this.logger.warn(entry.summary(entry.count));
      entry.count = 0;
    }
  }
}
