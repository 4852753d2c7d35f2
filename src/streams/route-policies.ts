import { distinctUntilChanged, map, scan } from "rxjs";
import type { Backend } from "../domain/backend.js";
import type { HealthState } from "../domain/health.js";
import type { RoutePolicy } from "../domain/route-policy.js";
import {
  type Route,
  firstHealthyRoute,
  routeLedBy,
  sameRoute,
  stickyChoice,
} from "../domain/route.js";

/** New clients go to the first healthy backend in list order; failback is immediate. */
export const firstHealthy: RoutePolicy = (health$) =>
  health$.pipe(map(firstHealthyRoute), distinctUntilChanged(sameRoute));

/**
 * New clients stay on the backend in use until it fails; a recovered primary does not take
 * traffic back by itself (no automatic failback, so single-writer databases see no split writes).
 */
export const stickyUntilDown: RoutePolicy = (health$) =>
  health$.pipe(
    scan(
      (acc: { lead: Backend | null; route: Route }, state: HealthState) => {
        const lead = stickyChoice(acc.lead, state);
        return { lead, route: routeLedBy(lead, state) };
      },
      { lead: null, route: [] },
    ),
    map((acc) => acc.route),
    distinctUntilChanged(sameRoute),
  );
