/**
 * The longest delay a Node timer holds: 2^31-1 ms, about 24.8 days. A longer one fires after
 * 1 ms, so longer durations are waited out in steps of at most this.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;
