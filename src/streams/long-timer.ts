import { Observable, type SchedulerAction, type SchedulerLike, asyncScheduler } from "rxjs";
import { MAX_TIMER_DELAY_MS } from "../domain/timer-limit.js";

/**
 * rxjs `timer(dueMs, periodMs, scheduler)` for durations of any length: a wait longer than a
 * timer can hold is scheduled as several waits of at most MAX_TIMER_DELAY_MS each. Emits 0
 * after `dueMs`, then 1, 2, ... every `periodMs`; without a period it emits once and completes.
 */
export const longTimer = (
  dueMs: number,
  periodMs?: number,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<number> =>
  new Observable<number>((subscriber) => {
    let count = 0;
    // NaN and negative values wait nothing, as with rxjs.
    let remaining = dueMs > 0 ? dueMs : 0;
    const nextWait = (): number => {
      const wait = Math.min(remaining, MAX_TIMER_DELAY_MS);
      remaining -= wait;
      return wait;
    };
    return scheduler.schedule(function (this: SchedulerAction<undefined>) {
      if (subscriber.closed) return;
      if (remaining > 0) {
        this.schedule(undefined, nextWait());
        return;
      }
      subscriber.next(count++);
      if (periodMs === undefined) {
        subscriber.complete();
        return;
      }
      remaining = periodMs > 0 ? periodMs : 0;
      // A period a timer can hold reschedules with the same delay each time, as rxjs does.
      this.schedule(undefined, nextWait());
    }, nextWait());
  });

/** rxjs `interval(periodMs, scheduler)` for periods of any length (see `longTimer`). */
export const longInterval = (
  periodMs: number,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<number> => longTimer(periodMs, periodMs, scheduler);
