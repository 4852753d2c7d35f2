import { MAX_TIMER_DELAY_MS } from "./timer-limit.js";

/**
 * How the idle and FIN timeouts are checked: one sweep over the live connections every
 * `periodMs`, a quarter of the shorter timeout, so a connection is closed between its timeout
 * and 1.25 times it. Per chunk the relay only sets a flag; no timer is touched.
 */
export interface SweepPlan {
  readonly periodMs: number;
  /** Sweeps in a row without a chunk either way that close a connection; 0: off. */
  readonly idleSweeps: number;
  /** Sweeps after a connection's first FIN that close it; 0: off. */
  readonly finSweeps: number;
}

/** The sweep for these timeouts (ms, undefined: off); null when both are off. */
export const sweepPlan = (
  idleTimeoutMs: number | undefined,
  finTimeoutMs: number | undefined,
): SweepPlan | null => {
  const on = [idleTimeoutMs, finTimeoutMs].filter((ms): ms is number => ms !== undefined);
  if (on.length === 0) return null;
  const periodMs = Math.min(Math.max(1, Math.floor(Math.min(...on) / 4)), MAX_TIMER_DELAY_MS);
  const sweeps = (ms: number | undefined): number =>
    ms === undefined ? 0 : Math.max(1, Math.ceil(ms / periodMs));
  return { periodMs, idleSweeps: sweeps(idleTimeoutMs), finSweeps: sweeps(finTimeoutMs) };
};
