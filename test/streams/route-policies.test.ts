import test from "ava";
import { initialHealth } from "../../src/domain/health.js";
import { firstHealthy, stickyUntilDown } from "../../src/streams/route-policies.js";
import { after, backends, labels, policyContext, testScheduler } from "../helpers/marbles.js";

const allUp = initialHealth(backends);
const aDown = after(allUp, { type: "connect-failed", backend: 0, reason: "refused", at: 1 });
const aBack = after(aDown, { type: "probe-ok", backend: 0, at: 2 });
const aBackBDown = after(aBack, { type: "probe-failed", backend: 1, reason: "refused", at: 3 });
const busier = after(allUp, { type: "connected", backend: 0, at: 1 });
const allDown = after(
  allUp,
  { type: "probe-failed", backend: 0, reason: "refused", at: 1 },
  { type: "probe-failed", backend: 1, reason: "refused", at: 1 },
  { type: "probe-failed", backend: 2, reason: "refused", at: 1 },
);
const states = { u: allUp, n: busier, d: aDown, r: aBack, b: aBackBDown, x: allDown };

test("firstHealthy: healthy backends in list order, failing back at once", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const health$ = hot("u-n-d-r-x-u", states);
    expectObservable(firstHealthy(health$, policyContext).pipe(labels)).toBe("u---d-r-x-u", {
      u: "ABC",
      d: "BC",
      r: "ABC",
      x: "",
    });
  });
});

test("stickyUntilDown: stays on the fallback after the primary recovers, moves only when it fails", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const health$ = hot("u-d-r-b", states);
    expectObservable(stickyUntilDown(health$, policyContext).pipe(labels)).toBe("u-d-r-b", {
      u: "ABC",
      d: "BC",
      r: "BAC",
      b: "AC",
    });
  });
});

test("stickyUntilDown: with every backend down the route is empty, then picks the first to return", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const health$ = hot("u-x-r", {
      ...states,
      r: after(allDown, { type: "probe-ok", backend: 2, at: 5 }),
    });
    expectObservable(stickyUntilDown(health$, policyContext).pipe(labels)).toBe("u-x-r", {
      u: "ABC",
      x: "",
      r: "C",
    });
  });
});
