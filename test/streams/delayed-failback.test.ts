import test from "ava";
import { initialHealth } from "../../src/domain/health.js";
import { delayedFailback } from "../../src/streams/delayed-failback.js";
import { after, backends, labels, policyContext, testScheduler } from "../helpers/marbles.js";

const allUp = initialHealth(backends);

test("a primary back up takes new clients only after staying up for the hold time", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const down = after(allUp, { type: "connect-failed", backend: 0, reason: "x", at: 2 });
    const back = after(down, { type: "probe-ok", backend: 0, at: 5 });
    const health$ = hot("u-d--b", { u: allUp, d: down, b: back });
    // Up at 5: a fallback behind B and C until 5 + 10 ms.
    expectObservable(delayedFailback(10)(health$, policyContext).pipe(labels), "^ 30ms !").toBe(
      "u-d--b 9ms u",
      { u: "ABC", d: "BC", b: "BCA" },
    );
  });
});

test("a primary that flaps within the hold never takes new clients back", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const down = after(allUp, { type: "connect-failed", backend: 0, reason: "x", at: 1 });
    const back = after(down, { type: "probe-ok", backend: 0, at: 3 });
    const downAgain = after(back, { type: "connect-failed", backend: 0, reason: "x", at: 8 });
    const backAgain = after(downAgain, { type: "probe-ok", backend: 0, at: 10 });
    const health$ = hot("ud-b----e-f", { u: allUp, d: down, b: back, e: downAgain, f: backAgain });
    expectObservable(delayedFailback(10)(health$, policyContext).pipe(labels), "^ 25ms !").toBe(
      "ud-b----e-f 9ms u",
      { u: "ABC", d: "BC", b: "BCA", e: "BC", f: "BCA" },
    );
  });
});

test("a recovered backend still takes clients at once when no settled backend is up", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const allDown = after(
      allUp,
      { type: "probe-failed", backend: 0, reason: "x", at: 1 },
      { type: "probe-failed", backend: 1, reason: "x", at: 1 },
      { type: "probe-failed", backend: 2, reason: "x", at: 1 },
    );
    const cBack = after(allDown, { type: "probe-ok", backend: 2, at: 3 });
    const health$ = hot("-x-c", { x: allDown, c: cBack });
    expectObservable(delayedFailback(100)(health$, policyContext).pipe(labels), "^ 5ms !").toBe(
      "-x-c",
      { x: "", c: "C" },
    );
  });
});
