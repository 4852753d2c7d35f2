import { MAX_TIMER_DELAY_MS } from "../domain/timer-limit.js";

/** Stops a pending long timeout; does nothing once it has fired. */
export type CancelTimeout = () => void;

/**
 * setTimeout for delays of any length: a delay longer than a Node timer holds is waited out as
 * a chain of timers of at most MAX_TIMER_DELAY_MS each.
 */
export const setLongTimeout = (callback: () => void, delayMs: number): CancelTimeout => {
  // NaN and negative delays wait nothing, as with setTimeout.
  let remaining = delayMs > 0 ? delayMs : 0;
  let timer: ReturnType<typeof setTimeout>;
  const wait = (): void => {
    const step = Math.min(remaining, MAX_TIMER_DELAY_MS);
    remaining -= step;
    timer = setTimeout(remaining > 0 ? wait : callback, step);
  };
  wait();
  return () => clearTimeout(timer);
};
