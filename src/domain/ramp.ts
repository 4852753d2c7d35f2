import { rankOf } from "./backend.js";
import { type HealthState, ranked } from "./health.js";
import { type Route, firstHealthyRoute, withShare } from "./route.js";

/**
 * Gradual failback: a backend that comes back ahead of the one in use takes a share of new
 * clients that grows linearly from 0 to all of them over the ramp's duration.
 */
export interface Ramp {
  /** Index of the backend ramping up: the route's first backend while the ramp lasts. */
  readonly backend: number;
  /** When it started (ms on the stream's clock), at share 0. */
  readonly since: number;
  /** The backend's up period the ramp is for: a new one (it went down and up) starts over. */
  readonly upSince: number | null;
}

/** The share changes at most this often, so a short ramp does not flood the route stream. */
export const MIN_RAMP_STEP_MS = 100;

/**
 * How often the share grows: 1 % of the ramp, but no more often than every MIN_RAMP_STEP_MS.
 * So a ramp has at most 100 steps and the route changes at most 10 times a second.
 */
export const rampStepMs = (durationMs: number): number =>
  Math.max(Math.ceil(durationMs / 100), MIN_RAMP_STEP_MS);

/**
 * The share of new clients the ramping backend takes `elapsedMs` into a ramp: a step function
 * that rises by one step's worth at each step, and is 1 from `durationMs` on.
 */
export const rampShare = (elapsedMs: number, durationMs: number): number => {
  if (elapsedMs >= durationMs) return 1;
  if (elapsedMs <= 0) return 0;
  const step = rampStepMs(durationMs);
  return (Math.floor(elapsedMs / step) * step) / durationMs;
};

/** When the share next changes (ms on the stream's clock), or null once the ramp is over. */
export const nextRampStepAt = (ramp: Ramp, now: number, durationMs: number): number | null => {
  const elapsed = now - ramp.since;
  if (elapsed >= durationMs) return null;
  const step = rampStepMs(durationMs);
  const next = elapsed < 0 ? 0 : (Math.floor(elapsed / step) + 1) * step;
  return ramp.since + Math.min(next, durationMs);
};

/** Index of the first healthy backend in list order, or null if none is up. */
export const leadOf = (state: HealthState): number | null =>
  ranked(state).find((b) => b.up)?.backend.index ?? null;

/** What gradual failback remembers from one health state to the next. */
export interface RampState {
  /** The first healthy backend of the last health state; null if none was up (or at start). */
  readonly lead: number | null;
  readonly ramp: Ramp | null;
  /**
   * By index: whether it has been marked down since start. Only such a backend ramps when it
   * comes back; one that was waiting for its first check at start (a deciding check) comes up
   * at full share, as backends up from the start do.
   */
  readonly wentDown: ReadonlyArray<boolean>;
}

export const RAMP_START: RampState = { lead: null, ramp: null, wentDown: [] };

/** `wentDown` with the backends down in `state` added (the same array when none is new). */
const noteDown = (wentDown: ReadonlyArray<boolean>, state: HealthState): ReadonlyArray<boolean> =>
  state.backends.every((b) => b.status.kind !== "down" || wentDown[b.backend.index] === true)
    ? wentDown
    : state.backends.map((b) => wentDown[b.backend.index] === true || b.status.kind === "down");

/**
 * The ramp after a health state. One starts when the lead moves to a backend earlier in the
 * list than the previous lead (it came back after being down); it goes on while that backend
 * stays the lead; it ends when it is over, when that backend goes down, or when no other backend
 * is up (then the ramping one takes every client at once: refusing them would help nobody).
 * Nothing ramps at start: backends up from the start take their full share at once.
 */
const nextRamp = (
  previous: RampState,
  wentDown: ReadonlyArray<boolean>,
  state: HealthState,
  now: number,
  durationMs: number,
): Ramp | null => {
  const listed = ranked(state);
  const lead = listed.find((b) => b.up);
  if (lead === undefined) return null;
  const { index } = lead.backend;
  const othersUp = listed.some((b) => b.up && b !== lead);
  if (!othersUp) return null;
  const fresh: Ramp = { backend: index, since: now, upSince: lead.upSince };
  const { ramp, lead: previousLead } = previous;
  if (ramp !== null && ramp.backend === index) {
    if (ramp.upSince !== lead.upSince) return fresh;
    return now - ramp.since < durationMs ? ramp : null;
  }
  // Earlier in the list than the previous lead: compared by rank (slots keep their index).
  const before = previousLead === null ? undefined : state.backends[previousLead]?.backend;
  return before !== undefined && rankOf(lead.backend) < rankOf(before) && wentDown[index] === true
    ? fresh
    : null;
};

/** What gradual failback makes of a health state seen at `now`. */
export const stepRamp = (
  previous: RampState,
  state: HealthState,
  now: number,
  durationMs: number,
): RampState => {
  const wentDown = noteDown(previous.wentDown, state);
  return {
    lead: leadOf(state),
    ramp: nextRamp(previous, wentDown, state, now, durationMs),
    wentDown,
  };
};

/**
 * Healthy backends in list order; while `ramp` runs, the first of them (the ramping backend)
 * takes only the ramp's share of new clients at `now`.
 */
export const rampRoute = (
  state: HealthState,
  ramp: Ramp | null,
  now: number,
  durationMs: number,
): Route => {
  const healthy = firstHealthyRoute(state);
  if (ramp === null || healthy[0]?.index !== ramp.backend) return healthy;
  return withShare(healthy, rampShare(now - ramp.since, durationMs));
};
