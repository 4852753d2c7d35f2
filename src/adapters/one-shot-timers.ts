/** The one scheduler method the storm-summarizing logs need: an rxjs scheduler (a TestScheduler in tests) fits. */
export interface OneShotScheduler {
  schedule(work: () => void, delayMs: number): { unsubscribe(): void };
}

/** Plain timers: workers load the logs that use this, and they do not load rxjs at all. */
export const oneShotTimers: OneShotScheduler = {
  schedule: (work, delayMs) => {
    const timer = setTimeout(work, delayMs);
    return { unsubscribe: () => clearTimeout(timer) };
  },
};
