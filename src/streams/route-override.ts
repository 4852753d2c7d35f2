import { type Observable, combineLatest, distinctUntilChanged, map, startWith } from "rxjs";
import type { RoutePolicy } from "../domain/route-policy.js";
import { type Route, sameRoute } from "../domain/route.js";

/**
 * A policy an operator can overrule: while `override$` holds a backend (by index) and that
 * backend is up, new clients go to it first, then along the policy's route; null (or the
 * backend not up) gives the route back to the policy. The policy keeps running underneath, so
 * lifting the override returns to where the policy is now.
 */
export const withOverride =
  (policy: RoutePolicy, override$: Observable<number | null>): RoutePolicy =>
  (health$, context) =>
    combineLatest([
      policy(health$, context),
      override$.pipe(startWith(null), distinctUntilChanged()),
      health$,
    ]).pipe(
      map(([route, index, state]): Route => {
        const lead = index === null ? undefined : state.backends[index];
        if (lead === undefined || !lead.up) return route;
        return [lead.backend, ...route.filter((b) => b.index !== index)];
      }),
      distinctUntilChanged(sameRoute),
    );
