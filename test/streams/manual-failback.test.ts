import test from "ava";
import { initialHealth } from "../../src/domain/health.js";
import { manualFailback } from "../../src/streams/manual-failback.js";
import { after, backends, labels, policyContext, testScheduler } from "../helpers/marbles.js";

const allUp = initialHealth(backends);
const down = after(allUp, { type: "connect-failed", backend: 0, reason: "x", at: 1 });
const back = after(down, { type: "probe-ok", backend: 0, at: 2 });

test("after failover, clients stay on the fallback until told to fail back", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const health$ = hot("u-d-b-------", { u: allUp, d: down, b: back });
    const failback$ = hot("---------f--");
    expectObservable(manualFailback(failback$)(health$, policyContext).pipe(labels)).toBe(
      "u-d-b----f",
      { u: "ABC", d: "BC", b: "BAC", f: "ABC" },
    );
  });
});

test("a failback while the primary is still down keeps the route; the fallback failing moves on", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const bDown = after(down, { type: "connect-failed", backend: 1, reason: "x", at: 6 });
    const health$ = hot("u-d-----x", { u: allUp, d: down, x: bDown });
    const failback$ = hot("----f");
    expectObservable(manualFailback(failback$)(health$, policyContext).pipe(labels)).toBe(
      "u-d-----x",
      { u: "ABC", d: "BC", x: "C" },
    );
  });
});
