import { concat, defer, distinctUntilChanged, map, of, switchMap } from "rxjs";
import type { RoutePolicy } from "../domain/route-policy.js";
import { nextSettleAt, sameRoute, settledFirstRoute } from "../domain/route.js";
import { longTimer } from "./long-timer.js";

/**
 * Failback after a hold: a backend that comes back takes new clients only once it has stayed up
 * for `holdMs` (until then it follows the settled backends, as a fallback). A flapping primary
 * does not pull clients back and forth. Timed on the context's scheduler.
 */
export const delayedFailback =
  (holdMs: number): RoutePolicy =>
  (health$, { scheduler }) =>
    defer(() => {
      const startedAt = scheduler.now();
      return health$.pipe(
        switchMap((state) => {
          const now = scheduler.now();
          const route = settledFirstRoute(state, now, holdMs, startedAt);
          const settles = nextSettleAt(state, now, holdMs, startedAt);
          if (settles === null) return of(route);
          // Look again when the next backend's hold ends (a new health state cancels this).
          return concat(
            of(route),
            longTimer(settles - now, undefined, scheduler).pipe(
              map(() => settledFirstRoute(state, scheduler.now(), holdMs, startedAt)),
            ),
          );
        }),
        distinctUntilChanged(sameRoute),
      );
    });
