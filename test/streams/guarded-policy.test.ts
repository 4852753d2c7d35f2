import test from "ava";
import { map, shareReplay } from "rxjs";
import { type HealthState, initialHealth, reduceHealth } from "../../src/domain/health.js";
import { type Route, firstHealthyRoute } from "../../src/domain/route.js";
import { guardedPolicy } from "../../src/streams/guarded-policy.js";
import type { RoutePolicy } from "../../src/domain/route-policy.js";
import { A, backends, policyContext, testScheduler } from "../helpers/marbles.js";

const allUp = initialHealth(backends);
const aDown = reduceHealth(allUp, { type: "connect-failed", backend: 0, reason: "x", at: 1 });
const aBack = reduceHealth(aDown, { type: "probe-ok", backend: 0, at: 2 });
const states = { u: allUp, d: aDown, r: aBack };
const labels = map((route: Route) => route.map((b) => "ABC"[b.index]).join(""));

/** firstHealthy, except that it throws whenever the primary is down. */
const failsWhilePrimaryDown: RoutePolicy = (health$) =>
  health$.pipe(
    map((state: HealthState) => {
      if (state.backends[0]?.up !== true) throw new Error("no primary");
      return firstHealthyRoute(state);
    }),
  );

test("a policy error keeps the last route and the policy resumes on the next health change", (t) => {
  testScheduler(t).run(({ hot, expectObservable, flush }) => {
    const errors: string[] = [];
    // The control plane's health stream replays its current state, as shareReplay does here.
    const health$ = hot("u-d-r", states).pipe(shareReplay(1));
    const route$ = guardedPolicy(
      failsWhilePrimaryDown,
      (error) => errors.push((error as Error).message),
      1,
    )(health$, policyContext);
    expectObservable(route$.pipe(labels)).toBe("u---r", { u: "ABC", r: "ABC" });
    flush();
    t.deepEqual(errors, ["no primary"]);
  });
});

test("a route that is not an array of the proxy's backends is an error, and the last route stays", (t) => {
  testScheduler(t).run(({ hot, expectObservable, flush }) => {
    const errors: string[] = [];
    const health$ = hot("u-d-r", states).pipe(shareReplay(1));
    const policy: RoutePolicy = (h$) =>
      h$.pipe(
        map((state) =>
          state === aDown ? ([{ index: 7 }] as unknown as Route) : firstHealthyRoute(state),
        ),
      );
    const route$ = guardedPolicy(
      policy,
      (error) => errors.push((error as Error).message),
      1,
    )(health$, policyContext);
    expectObservable(route$.pipe(labels)).toBe("u---r", { u: "ABC", r: "ABC" });
    flush();
    t.deepEqual(errors, ["route[0] is not one of the proxy's backends"]);
  });
});

test("routes come out as the proxy's own backend objects", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const health$ = hot("u", states).pipe(shareReplay(1));
    const copy: RoutePolicy = (h$) => h$.pipe(map(() => [{ ...A }]));
    const same = guardedPolicy(copy, () => undefined)(health$, policyContext).pipe(
      map((route) => route[0] === A),
    );
    expectObservable(same).toBe("t", { t: true });
  });
});

test("a policy that keeps failing is tried again at most once per retry interval, however busy health is", (t) => {
  testScheduler(t).run(({ hot, expectObservable, flush }) => {
    const errors: number[] = [];
    // The primary is down throughout, and health changes every frame (busy traffic).
    const health$ = hot("d".repeat(25), states).pipe(shareReplay(1));
    const route$ = guardedPolicy(
      failsWhilePrimaryDown,
      () => errors.push(errors.length),
      10,
    )(health$, policyContext);
    expectObservable(route$.pipe(labels), "^ 24ms !").toBe("");
    flush();
    // At 0, then at 10 and 20: not once per frame.
    t.is(errors.length, 3);
  });
});
