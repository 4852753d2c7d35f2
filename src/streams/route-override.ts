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
    // Health first: a health change reaches this before the policy's answer to it, so the
    // policy's route is at worst one step old, and it is trimmed to what is up while overridden.
    combineLatest([
      health$,
      policy(health$, context),
      override$.pipe(startWith(null), distinctUntilChanged()),
    ]).pipe(
      map(([state, route, index]): Route => {
        if (index === null) return route;
        const lead = state.backends[index];
        const rest = route.filter((b) => b.index !== index && state.backends[b.index]?.up === true);
        return lead?.up === true ? [lead.backend, ...rest] : rest;
      }),
      distinctUntilChanged(sameRoute),
    );
