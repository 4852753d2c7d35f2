import test from "ava";
import { asyncScheduler, map } from "rxjs";
import { initialHealth, reduceHealth } from "../../src/domain/health.js";
import type { ProbeResult } from "../../src/domain/probe.js";
import { MAX_TIMER_DELAY_MS } from "../../src/domain/timer-limit.js";
import { probeEvents, probeTargets } from "../../src/streams/probe-schedule.js";
import { type Backend, makeBackends } from "../../src/domain/backend.js";
import { planBackends } from "../../src/domain/backend-plan.js";
import { A, C, backends, testScheduler } from "../helpers/marbles.js";
import { recordingScheduler } from "../helpers/recording-scheduler.js";

const allUp = initialHealth(backends);
const primaryDown = reduceHealth(allUp, {
  type: "connect-failed",
  backend: 0,
  reason: "refused",
  at: 14,
});

test("probes every backend at start, then only the down ones every probe-delay", (t) => {
  testScheduler(t).run(({ hot, expectObservable, expectSubscriptions }) => {
    const health$ = hot("a 13ms b", { a: allUp, b: primaryDown });
    const targets$ = probeTargets(health$, 10).pipe(
      map((list) => list.map((b) => b.index).join(",")),
    );
    expectObservable(targets$, "35ms !").toBe("x 9ms y 9ms z 9ms z", { x: "0,1,2", y: "", z: "0" });
    // The ticks read the latest state; the reload watch follows every state.
    expectSubscriptions(health$.subscriptions).toBe(["^ 34ms !", "^ 34ms !"]);
  });
});

test("a reload that changes the list has every listed backend checked at once, up ones too", (t) => {
  // B removed and a new backend D added first: a new order (and slot 3).
  const [D] = makeBackends([{ host: "127.0.0.1", port: 7004 }]);
  const plan = planBackends(backends, [0, 1, 2], [{ ...(D as Backend) }, A, C]);
  const reloaded = reduceHealth(allUp, {
    type: "reconfigure",
    backends: plan.backends,
    added: plan.added,
    removed: plan.removed,
    changed: plan.changed,
    at: 5,
  });
  testScheduler(t).run(({ hot, expectObservable }) => {
    const health$ = hot("a 4ms b 2ms c", { a: allUp, b: reloaded, c: reloaded });
    const targets$ = probeTargets(health$, 10).pipe(
      map((list) => list.map((b) => b.index).join(",")),
    );
    // At 5 the reload: D (slot 3), A, C; B (slot 1) is retired and checked no more.
    expectObservable(targets$, "25ms !").toBe("x 4ms r 4ms y 9ms y", {
      x: "0,1,2",
      r: "3,0,2",
      y: "",
    });
  });
});

test("a 600h probe delay probes at 0, 600h and 1200h, never waiting longer than a timer holds", (t) => {
  const h600 = 600 * 3_600_000;
  const { scheduler, delays } = recordingScheduler(asyncScheduler);
  testScheduler(t).run(({ hot, expectObservable }) => {
    const health$ = hot("a", { a: primaryDown });
    const targets$ = probeTargets(health$, h600, scheduler).pipe(
      map((list) => list.map((b) => b.index).join(",")),
    );
    expectObservable(targets$, `${2 * h600 + 1}ms !`).toBe(`x ${h600 - 1}ms z ${h600 - 1}ms z`, {
      x: "0,1,2",
      z: "0",
    });
  });
  t.true(
    delays.every((delay) => delay <= MAX_TIMER_DELAY_MS),
    `scheduled ${delays.join(", ")}`,
  );
});

test("a backend whose probe is still running is not probed again", (t) => {
  testScheduler(t).run(({ hot, cold, expectObservable }) => {
    const targets$ = hot("a 9ms a 9ms a", { a: [A] });
    const slowProbe = cold("15ms r|", { r: { ok: true } as const });
    const events$ = probeEvents(targets$, () => slowProbe);
    expectObservable(events$, "40ms !").toBe("15ms a 19ms b", {
      a: { type: "probe-ok", backend: 0, at: 15 },
      b: { type: "probe-ok", backend: 0, at: 35 },
    });
  });
});

test("a failed probe becomes a probe-failed event carrying the reason", (t) => {
  testScheduler(t).run(({ hot, cold, expectObservable }) => {
    const targets$ = hot("-a", { a: [A] });
    const events$ = probeEvents(targets$, () =>
      cold("--r|", { r: { ok: false, reason: "timeout" } as const }),
    );
    expectObservable(events$).toBe("---a", {
      a: { type: "probe-failed", backend: 0, reason: "timeout", at: 3 },
    });
  });
});

test("with a check interval every backend is checked, up ones too, and probe-delay is unused", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const health$ = hot("a 13ms b", { a: allUp, b: primaryDown });
    const targets$ = probeTargets(health$, 1_000, undefined, 10).pipe(
      map((list) => list.map((b) => b.index).join(",")),
    );
    expectObservable(targets$, "25ms !").toBe("x 9ms x 9ms x", { x: "0,1,2" });
  });
});

test("a check's latency rides on its event, passed or failed; left out when the check did not say", (t) => {
  testScheduler(t).run(({ hot, cold, expectObservable }) => {
    const targets$ = hot("-a 9ms a 9ms a", { a: [A] });
    const results: ReadonlyArray<ProbeResult> = [
      { ok: true, latencyMs: 1.5 },
      { ok: false, reason: "refused", latencyMs: 0.25 },
    ];
    let call = 0;
    const events$ = probeEvents(targets$, () =>
      cold("--r|", { r: results[call++] ?? { ok: true } }),
    );
    expectObservable(events$).toBe("---a 9ms b 9ms c", {
      a: { type: "probe-ok", backend: 0, latencyMs: 1.5, at: 3 },
      b: { type: "probe-failed", backend: 0, reason: "refused", latencyMs: 0.25, at: 13 },
      c: { type: "probe-ok", backend: 0, at: 23 },
    });
  });
});
