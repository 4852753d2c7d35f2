import { type Observable, distinctUntilChanged, map, merge, scan } from "rxjs";
import type { Backend } from "../domain/backend.js";
import type { HealthState } from "../domain/health.js";
import type { RoutePolicy } from "../domain/route-policy.js";
import { type Route, routeLedBy, sameRoute, stickyChoice } from "../domain/route.js";

type Input =
  { readonly kind: "health"; readonly state: HealthState } | { readonly kind: "failback" };

/**
 * Failback only when told: new clients stay on the backend in use until it fails (as
 * stickyUntilDown), and each emission of `failback$` moves them to the first healthy backend.
 */
export const manualFailback =
  (failback$: Observable<unknown>): RoutePolicy =>
  (health$) =>
    merge(
      health$.pipe(map((state): Input => ({ kind: "health", state }))),
      failback$.pipe(map((): Input => ({ kind: "failback" }))),
    ).pipe(
      scan(
        (acc: { lead: Backend | null; state: HealthState | null; route: Route }, input: Input) => {
          const state = input.kind === "health" ? input.state : acc.state;
          if (state === null) return acc;
          const lead =
            input.kind === "failback" ? stickyChoice(null, state) : stickyChoice(acc.lead, state);
          return { lead, state, route: routeLedBy(lead, state) };
        },
        { lead: null, state: null, route: [] },
      ),
      map((acc) => acc.route),
      distinctUntilChanged(sameRoute),
    );
