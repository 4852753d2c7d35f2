import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type Observable, combineLatest, defer, map, retry, skip, take, timer } from "rxjs";
import type { HealthState } from "../domain/health.js";
import { type Route, checkRoute } from "../domain/route.js";
import type { PolicyContext, RoutePolicy } from "../domain/route-policy.js";

/** A policy emitted something that is not a route of the proxy's backends. */
export class InvalidRouteError extends Error {
  override readonly name = "InvalidRouteError";
}

/**
 * A program's route policy made safe to run forever. An error (a throw inside the policy, or a
 * value that is not a route of these backends) is reported and the last route stays; the policy
 * is subscribed again on the next health change, so one bad state does not freeze routing, but
 * no sooner than `retryAfterMs` after the error: health changes with every busy event-loop turn,
 * and a policy that always throws must not log an error per turn.
 * `health$` must replay its current state to new subscribers, as the control plane's does.
 */
export const guardedPolicy =
  (policy: RoutePolicy, onError: (error: unknown) => void, retryAfterMs = 1_000): RoutePolicy =>
  (health$: Observable<HealthState>, context: PolicyContext): Observable<Route> =>
    defer(() => policy(health$, context)).pipe(
      map((value) =>
        pipe(
          checkRoute(value, context.backends),
          E.getOrElseW((problem) => {
            throw new InvalidRouteError(problem);
          }),
        ),
      ),
      retry({
        delay: (error: unknown) => {
          onError(error);
          return combineLatest([
            health$.pipe(skip(1), take(1)),
            timer(retryAfterMs, context.scheduler),
          ]);
        },
      }),
    );
