import { type Observable, type SchedulerLike, distinctUntilChanged, map, skip } from "rxjs";
import { type RouteEvent, routeEvent } from "../domain/route-event.js";
import { type Route, sameRoute } from "../domain/route.js";

/**
 * Each change of a replayed route$ after the one it replays, as an event stamped with the
 * scheduler's clock: a subscriber that already read the current route (an event stream's
 * first state) hears only what changes after.
 */
export const routeEvents = (
  route$: Observable<Route>,
  scheduler: SchedulerLike,
): Observable<RouteEvent> =>
  route$.pipe(
    distinctUntilChanged(sameRoute),
    skip(1),
    map((route) => routeEvent(route, scheduler.now())),
  );
