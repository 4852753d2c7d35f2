import {
  EMPTY,
  type Observable,
  type SchedulerLike,
  asyncScheduler,
  map,
  withLatestFrom,
} from "rxjs";
import type { HealthState } from "../domain/health.js";
import { type StatsSnapshot, snapshotOf } from "../domain/stats.js";
import { longInterval } from "./long-timer.js";

/** A stats snapshot every `intervalMs`; an interval of 0 turns stats off. */
export const statsSnapshots = (
  health$: Observable<HealthState>,
  intervalMs: number,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<StatsSnapshot> =>
  intervalMs <= 0
    ? EMPTY
    : longInterval(intervalMs, scheduler).pipe(
        withLatestFrom(health$),
        map(([, state]) => snapshotOf(state, scheduler.now())),
      );
