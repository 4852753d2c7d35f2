import type { SchedulerAction, SchedulerLike, Subscription } from "rxjs";

export interface RecordingScheduler {
  readonly scheduler: SchedulerLike;
  /** Every delay scheduled so far, reschedules of a running action included. */
  readonly delays: number[];
}

/** Wraps a scheduler to record the delay of every wait scheduled on it. */
export const recordingScheduler = (inner: SchedulerLike): RecordingScheduler => {
  const delays: number[] = [];
  const scheduler: SchedulerLike = {
    now: () => inner.now(),
    schedule<T>(
      work: (this: SchedulerAction<T>, state?: T) => void,
      delay = 0,
      state?: T,
    ): Subscription {
      delays.push(delay);
      return inner.schedule(
        function (this: SchedulerAction<T>, current?: T) {
          // Work reschedules itself through `this`, which the wrapper would not see otherwise.
          const action = Object.create(this) as SchedulerAction<T>;
          action.schedule = (next?: T, nextDelay = 0) => {
            delays.push(nextDelay);
            return this.schedule(next, nextDelay);
          };
          work.call(action, current);
        },
        delay,
        state,
      );
    },
  };
  return { scheduler, delays };
};
