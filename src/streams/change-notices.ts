import {
  EMPTY,
  type Observable,
  type SchedulerLike,
  defer,
  delay,
  filter,
  map,
  merge,
  mergeMap,
  of,
  scan,
  tap,
} from "rxjs";
import { type ChangeNotice, isBackendChange } from "../domain/change-notice.js";
import type { ProxyEvent } from "../domain/proxy-event.js";
import { type Route, sameRoute } from "../domain/route.js";

type Input = { readonly route: Route } | { readonly event: ProxyEvent };

interface Step {
  readonly route: Route | null;
  readonly notice: ChangeNotice | null;
}

/**
 * What an on-change hook hears: every change of the route (not the first route: nothing changed
 * yet) and every change of a backend's state, in order. A backend's change carries the route as
 * it stands once the proxy has acted on it: it is told at the end of its instant (a zero delay on
 * `scheduler`), after the route that change brings. Per-connection events (connect-failed,
 * probe-failed, sessions-closed) are left out.
 */
export const changeNotices = (
  route$: Observable<Route>,
  events$: Observable<ProxyEvent>,
  scheduler: SchedulerLike,
): Observable<ChangeNotice> =>
  defer(() => {
    let latest: Route = [];
    return merge(
      route$.pipe(
        tap((route) => (latest = route)),
        map((route): Input => ({ route })),
      ),
      events$.pipe(
        filter(isBackendChange),
        map((event): Input => ({ event })),
      ),
    ).pipe(
      scan(
        (step: Step, input: Input): Step => {
          if ("route" in input) {
            const previous = step.route;
            if (previous === null || sameRoute(previous, input.route))
              return { route: input.route, notice: null };
            const at = scheduler.now();
            return {
              route: input.route,
              notice: { type: "route-changed", route: input.route, previous, at },
            };
          }
          if (!isBackendChange(input.event)) return { route: step.route, notice: null };
          return { route: step.route, notice: { ...input.event, route: [] } };
        },
        { route: null, notice: null },
      ),
      mergeMap((step) => (step.notice === null ? EMPTY : of(step.notice))),
      delay(0, scheduler),
      map((notice) => (notice.type === "route-changed" ? notice : { ...notice, route: latest })),
    );
  });
