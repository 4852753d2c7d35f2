import test from "ava";
import { asyncScheduler, map } from "rxjs";
import { probeTargets } from "../../src/streams/probe-schedule.js";
import { initialHealth } from "../../src/domain/health.js";
import { firstHealthy } from "../../src/streams/route-policies.js";
import { withOverride } from "../../src/streams/route-override.js";
import { after, backends, labels, policyContext, testScheduler } from "../helpers/marbles.js";

const allUp = initialHealth(backends);

test("an override puts its backend first while it is up; null gives the route back", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const cDown = after(allUp, { type: "probe-failed", backend: 2, reason: "x", at: 4 });
    const cBack = after(cDown, { type: "probe-ok", backend: 2, at: 6 });
    const health$ = hot("u---d-b", { u: allUp, d: cDown, b: cBack });
    const override$ = hot("--c-----n", { c: 2, n: null });
    expectObservable(
      withOverride(firstHealthy, override$)(health$, policyContext).pipe(labels),
      "^ 10ms !",
    ).toBe("u-c-d-c-u", { u: "ABC", c: "CAB", d: "AB" });
  });
});

test("an override of a backend that is not up changes nothing", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const bDown = after(allUp, { type: "probe-failed", backend: 1, reason: "x", at: 0 });
    const health$ = hot("d", { d: bDown });
    const override$ = hot("--b", { b: 1 });
    expectObservable(
      withOverride(firstHealthy, override$)(health$, policyContext).pipe(labels),
      "^ 5ms !",
    ).toBe("d", { d: "AC" });
  });
});

test("probeTargets skips a backend in maintenance, at start and on every tick", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const aMaint = after(allUp, { type: "admin", backend: 0, action: "maint", at: 0 });
    const aDown = after(aMaint, { type: "probe-failed", backend: 0, reason: "x", at: 0 });
    const health$ = hot("m", { m: aDown });
    expectObservable(
      probeTargets(health$, 5, asyncScheduler, undefined).pipe(
        map((targets) => targets.map((b) => "ABC"[b.index]).join("")),
      ),
      "^ 12ms !",
    ).toBe("x 4ms y 4ms y", { x: "BC", y: "" });
  });
});
