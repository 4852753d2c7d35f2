import { EMPTY, defer, distinctUntilChanged, expand, map, of, scan, switchMap } from "rxjs";
import type { HealthState } from "../domain/health.js";
import { RAMP_START, type RampState, nextRampStepAt, rampRoute, stepRamp } from "../domain/ramp.js";
import type { RoutePolicy } from "../domain/route-policy.js";
import { sameRoute } from "../domain/route.js";
import { longTimer } from "./long-timer.js";

interface RampStep {
  readonly state: HealthState;
  readonly ramp: RampState;
  /** When the state was seen. */
  readonly at: number;
}

/**
 * Gradual failback: a backend that comes back ahead of the one in use takes a share of new
 * clients that grows from 0 to all of them over `durationMs` (the others try it last), in
 * steps of 1 % of the ramp but at most one route every 100 ms (see `rampStepMs`). It going down
 * ends its ramp; it coming back starts one again at 0. Backends up at start (or up at their
 * first check), or a backend that comes back while no other is up, take their full share at once.
 * Timed on the context's scheduler: one timer per step of the ramp, none per client.
 */
export const rampFailback =
  (durationMs: number): RoutePolicy =>
  (health$, { scheduler }) =>
    defer(() =>
      health$.pipe(
        scan<HealthState, RampStep, null>((previous, state) => {
          const at = scheduler.now();
          const ramp = stepRamp(previous?.ramp ?? RAMP_START, state, at, durationMs);
          return { state, ramp, at };
        }, null),
        // A new health state cancels the steps of the last one and schedules its own.
        switchMap(({ state, ramp: { ramp }, at }) => {
          if (ramp === null) return of(rampRoute(state, null, at, durationMs));
          return of(at).pipe(
            // Each step is due at its own time from the ramp's start (a late timer makes the
            // next wait shorter). The share is read off the clock, as for a health state, so the
            // two never disagree: a timer that fires a little early just waits the rest.
            expand((now) => {
              const next = nextRampStepAt(ramp, now, durationMs);
              return next === null
                ? EMPTY
                : longTimer(next - scheduler.now(), undefined, scheduler).pipe(
                    map(() => scheduler.now()),
                  );
            }),
            map((now) => rampRoute(state, ramp, now, durationMs)),
          );
        }),
        distinctUntilChanged(sameRoute),
      ),
    );
