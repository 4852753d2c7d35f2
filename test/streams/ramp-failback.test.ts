import test from "ava";
import { map } from "rxjs";
import { backendsOf } from "../../src/domain/backend.js";
import { type HealthState, initialHealth } from "../../src/domain/health.js";
import { type Route, shareOf } from "../../src/domain/route.js";
import { rampFailback } from "../../src/streams/ramp-failback.js";
import { after, backends, policyContext, testScheduler } from "../helpers/marbles.js";

const allUp = initialHealth(backends);

/** A route as letters, with the first backend's share in % while it ramps: "ABC@25". */
const shares = map((route: Route) => {
  const letters = route.map((b) => "ABC"[b.index]).join("");
  const share = shareOf(route);
  return share < 1 ? `${letters}@${Math.round(share * 100)}` : letters;
});

/** A's ramp over [A, B, C] (with x: A down): o at 0 %, q at 25 %, h at 50 %, t at 75 %. */
const aRamp = { u: "ABC", x: "BC", o: "ABC@0", q: "ABC@25", h: "ABC@50", t: "ABC@75" };

const down = (state: HealthState, backend: number, at: number): HealthState =>
  after(state, { type: "probe-failed", backend, reason: "x", at });
const back = (state: HealthState, backend: number, at: number): HealthState =>
  after(state, { type: "probe-ok", backend, at });

test("a primary back up takes 0, 25, 50, 75 then 100 % of new clients over the ramp", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const aDown = down(allUp, 0, 2);
    const aBack = back(aDown, 0, 5);
    const health$ = hot("u-d--b", { u: allUp, d: aDown, b: aBack });
    // 400 ms: steps of 100 ms (the shortest step), a quarter each.
    expectObservable(rampFailback(400)(health$, policyContext).pipe(shares), "^ 1s !").toBe(
      "u-x--o 99ms q 99ms h 99ms t 99ms u",
      aRamp,
    );
  });
});

test("a long ramp grows in steps of 1 %", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const aDown = down(allUp, 0, 1);
    const aBack = back(aDown, 0, 2);
    const health$ = hot("udb", { u: allUp, d: aDown, b: aBack });
    // 60 s: a step every 600 ms, 1 % each; the route stays as it is in between.
    expectObservable(rampFailback(60_000)(health$, policyContext).pipe(shares), "^ 1900ms !").toBe(
      "uxo 599ms a 599ms b 599ms c",
      { ...aRamp, a: "ABC@1", b: "ABC@2", c: "ABC@3" },
    );
  });
});

test("busy health (traffic on every turn) neither restarts nor disturbs the ramp", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const aDown = down(allUp, 0, 2);
    const aBack = back(aDown, 0, 5);
    const busy = (at: number): HealthState =>
      after(aBack, {
        type: "traffic",
        accepted: 1,
        backends: [{ backend: 1, connected: 1, closed: 0, bytesIn: 1, bytesOut: 1, lastUsed: at }],
        at,
      });
    const health$ = hot("u-d--b 49ms x 99ms y 99ms z", {
      u: allUp,
      d: aDown,
      b: aBack,
      x: busy(55),
      y: busy(155),
      z: busy(255),
    });
    expectObservable(rampFailback(400)(health$, policyContext).pipe(shares), "^ 1s !").toBe(
      "u-x--o 99ms q 99ms h 99ms t 99ms u",
      aRamp,
    );
  });
});

test("a primary that goes down during its ramp ends it; back again, it starts over at 0", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const aDown = down(allUp, 0, 1);
    const aBack = back(aDown, 0, 2);
    const aDownAgain = down(aBack, 0, 152);
    const aBackAgain = back(aDownAgain, 0, 202);
    const health$ = hot("udb 149ms e 49ms f", {
      u: allUp,
      d: aDown,
      b: aBack,
      e: aDownAgain,
      f: aBackAgain,
    });
    expectObservable(rampFailback(400)(health$, policyContext).pipe(shares), "^ 1s !").toBe(
      "uxo 99ms q 49ms x 49ms o 99ms q 99ms h 99ms t 99ms u",
      aRamp,
    );
  });
});

test("no ramp at start: every backend up at once takes its full share", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    // The fallback B fails and comes back: it is behind A, so nothing ramps either.
    const bDown = down(allUp, 1, 1);
    const bBack = back(bDown, 1, 2);
    const health$ = hot("udb", { u: allUp, d: bDown, b: bBack });
    expectObservable(rampFailback(400)(health$, policyContext).pipe(shares), "^ 1s !").toBe("udu", {
      u: "ABC",
      d: "AC",
    });
  });
});

test("no ramp at start with deciding checks: a primary whose first check passes late takes all at once", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const checked = backendsOf(
      backends.map((b) => ({ address: b.address, label: b.label })),
      { check: { kind: "redis" } },
    );
    const start = initialHealth(checked);
    const bFirst = back(start, 1, 1);
    const thenA = back(bFirst, 0, 3);
    const thenC = back(thenA, 2, 4);
    const health$ = hot("sb-ac", { s: start, b: bFirst, a: thenA, c: thenC });
    expectObservable(rampFailback(400)(health$, policyContext).pipe(shares), "^ 1s !").toBe(
      "sb-ac",
      { s: "", b: "B", a: "AB", c: "ABC" },
    );
  });
});

test("a backend back while no other is up takes every client at once, and keeps them", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const allDown = down(down(down(allUp, 0, 1), 1, 1), 2, 1);
    const aBack = back(allDown, 0, 2);
    // B comes back later: behind A, it takes no share from it.
    const bBack = back(aBack, 1, 50);
    const health$ = hot("uxa 46ms b", { u: allUp, x: allDown, a: aBack, b: bBack });
    expectObservable(rampFailback(400)(health$, policyContext).pipe(shares), "^ 1s !").toBe(
      "uxa 46ms b",
      { u: "ABC", x: "", a: "A", b: "AB" },
    );
  });
});

test("others going down during a ramp hand the ramping backend every client at once", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const aDown = down(allUp, 0, 1);
    const aBack = back(aDown, 0, 2);
    const othersDown = down(down(aBack, 1, 150), 2, 150);
    const bBack = back(othersDown, 1, 200);
    const health$ = hot("udb 146ms o 49ms r", {
      u: allUp,
      d: aDown,
      b: aBack,
      o: othersDown,
      r: bBack,
    });
    // The ramp is over for good: B's return does not start it again.
    expectObservable(rampFailback(400)(health$, policyContext).pipe(shares), "^ 1s !").toBe(
      "uxo 99ms q 46ms a 49ms b",
      { ...aRamp, a: "A", b: "AB" },
    );
  });
});

test("a fallback back ahead of the one in use ramps too; the primary back starts its own ramp", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const abDown = down(down(allUp, 0, 1), 1, 1);
    const bBack = back(abDown, 1, 2);
    const aBack = back(bBack, 0, 152);
    const health$ = hot("uxb 149ms a", { u: allUp, x: abDown, b: bBack, a: aBack });
    expectObservable(rampFailback(400)(health$, policyContext).pipe(shares), "^ 1s !").toBe(
      "uxb 99ms q 49ms a 99ms r 99ms s 99ms v 99ms w",
      {
        u: "ABC",
        x: "C",
        b: "BC@0",
        q: "BC@25",
        a: "ABC@0",
        r: "ABC@25",
        s: "ABC@50",
        v: "ABC@75",
        w: "ABC",
      },
    );
  });
});
