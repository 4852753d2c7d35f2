import type { Observable, SchedulerLike } from "rxjs";
import type { Backend } from "./backend.js";
import type { HealthState } from "./health.js";
import type { Route } from "./route.js";

/** What a policy may need beside the health stream: time-based policies take the scheduler. */
export interface PolicyContext {
  /** The clock and timers of the proxy's streams (a TestScheduler in marble tests). */
  readonly scheduler: SchedulerLike;
  /** The proxy's backends in priority order. */
  readonly backends: ReadonlyArray<Backend>;
}

/** The routing port: turns the health stream into the route stream. */
export type RoutePolicy = (
  health$: Observable<HealthState>,
  context: PolicyContext,
) => Observable<Route>;
