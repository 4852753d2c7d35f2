import { type Route, shareOf } from "./route.js";

/**
 * A route change as the admin event stream tells it: backend ids new clients try, in order;
 * `share` only while the first takes less than all of them (a ramp).
 */
export interface RouteEvent {
  readonly type: "route";
  readonly backends: ReadonlyArray<string>;
  readonly share?: number;
  readonly at: number;
}

export const routeEvent = (route: Route, at: number): RouteEvent => {
  const backends = route.map((backend) => backend.id);
  const share = shareOf(route);
  return share < 1 ? { type: "route", backends, share, at } : { type: "route", backends, at };
};
