import test from "ava";
import { type HealthEvent, initialHealth, reduceHealth } from "../../src/domain/health.js";
import { sweepPlan } from "../../src/domain/limits.js";
import { MAX_TIMER_DELAY_MS } from "../../src/domain/timer-limit.js";
import { backends } from "../helpers/marbles.js";

test("sweepPlan: a sweep every quarter of the shorter timeout, each timeout a whole number of sweeps", (t) => {
  t.is(sweepPlan(undefined, undefined), null);
  t.deepEqual(sweepPlan(400, undefined), { periodMs: 100, idleSweeps: 4, finSweeps: 0 });
  t.deepEqual(sweepPlan(undefined, 2_000), { periodMs: 500, idleSweeps: 0, finSweeps: 4 });
  // The shorter sets the pace; the longer is rounded up, never closing early.
  t.deepEqual(sweepPlan(300_000, 1_000), { periodMs: 250, idleSweeps: 1200, finSweeps: 4 });
  t.deepEqual(sweepPlan(1_000, 1_100), { periodMs: 250, idleSweeps: 4, finSweeps: 5 });
  // Tiny timeouts: a sweep every millisecond.
  t.deepEqual(sweepPlan(1, undefined), { periodMs: 1, idleSweeps: 1, finSweeps: 0 });
  // Past Node's timer limit the period is capped, the count grows.
  const long = sweepPlan(10 * MAX_TIMER_DELAY_MS, undefined);
  t.is(long?.periodMs, MAX_TIMER_DELAY_MS);
  t.is(long?.idleSweeps, 10);
});

test("the health state counts each limit's acts in the totals, a full backend also in its own", (t) => {
  const events: HealthEvent[] = [
    { type: "limited", reason: "idle-timeout", backend: 0, count: 2, at: 1 },
    { type: "limited", reason: "fin-timeout", backend: 1, count: 1, at: 2 },
    { type: "limited", reason: "backend-full", backend: 1, count: 3, at: 3 },
    { type: "limited", reason: "accept-paused", count: 1, at: 4 },
    { type: "limited", reason: "backend-full", backend: 1, count: 1, at: 5 },
  ];
  const start = initialHealth(backends);
  // Nothing is shown until a limit acts: a state without limits reads as before.
  t.is(start.totals.limits, undefined);
  const state = events.reduce(reduceHealth, start);
  t.deepEqual(state.totals.limits, {
    idleTimeouts: 2,
    finTimeouts: 1,
    backendFull: 4,
    acceptPauses: 1,
  });
  t.deepEqual(
    state.backends.map((b) => b.backendFull),
    [undefined, 4, undefined],
  );
  // Counters only: health is unchanged.
  t.deepEqual(
    state.backends.map((b) => [b.up, b.status]),
    start.backends.map((b) => [b.up, b.status]),
  );
  t.is(state.totals.active, start.totals.active);
  // An unknown backend is counted in the totals only.
  const unknown = reduceHealth(state, {
    type: "limited",
    reason: "backend-full",
    backend: 9,
    count: 1,
    at: 6,
  });
  t.is(unknown.totals.limits?.backendFull, 5);
  t.is(unknown.backends, state.backends);
});
