import test from "ava";
import { backendsOf } from "../../src/domain/backend.js";
import { type HealthState, initialHealth } from "../../src/domain/health.js";
import {
  RAMP_START,
  type RampState,
  nextRampStepAt,
  rampRoute,
  rampShare,
  rampStepMs,
  stepRamp,
} from "../../src/domain/ramp.js";
import { shareOf } from "../../src/domain/route.js";
import { after, backends } from "../helpers/marbles.js";

test("a ramp steps by 1 % of its duration, but at most every 100 ms", (t) => {
  t.is(rampStepMs(60_000), 600);
  t.is(rampStepMs(3_600_000), 36_000);
  t.is(rampStepMs(2_000), 100);
  t.is(rampStepMs(50), 100);
  // Whole milliseconds: a step never falls between two.
  t.is(rampStepMs(12_345), 124);
});

test("the share grows linearly in steps and is whole from the ramp's end on", (t) => {
  t.is(rampShare(-5, 400), 0);
  t.is(rampShare(0, 400), 0);
  t.is(rampShare(99, 400), 0);
  t.is(rampShare(100, 400), 0.25);
  t.is(rampShare(250, 400), 0.5);
  t.is(rampShare(399, 400), 0.75);
  t.is(rampShare(400, 400), 1);
  t.is(rampShare(10_000, 400), 1);
  t.is(rampShare(30_000, 60_000), 0.5);
  t.is(rampShare(30_599, 60_000), 0.5);
  t.is(rampShare(30_600, 60_000), 0.51);
  // A ramp shorter than two steps: one step, then the end.
  t.is(rampShare(100, 150), 100 / 150);
  t.is(rampShare(150, 150), 1);
});

test("the next step is at the next multiple of the step, the last at the ramp's end", (t) => {
  const ramp = { backend: 0, since: 1_000, upSince: 1_000 };
  t.is(nextRampStepAt(ramp, 1_000, 400), 1_100);
  t.is(nextRampStepAt(ramp, 1_150, 400), 1_200);
  t.is(nextRampStepAt(ramp, 1_399, 400), 1_400);
  t.is(nextRampStepAt(ramp, 1_400, 400), null);
  t.is(nextRampStepAt(ramp, 1_050, 150), 1_100);
  t.is(nextRampStepAt(ramp, 1_100, 150), 1_150);
  t.is(nextRampStepAt(ramp, 1_150, 150), null);
});

const allUp = initialHealth(backends);
const aDown = after(allUp, { type: "probe-failed", backend: 0, reason: "x", at: 1 });
const aBack = after(aDown, { type: "probe-ok", backend: 0, at: 2 });

/** The ramp after `states`, each seen at its index's time in ms. */
const rampAfter = (durationMs: number, ...states: HealthState[]): RampState =>
  states.reduce((previous, state, i) => stepRamp(previous, state, i, durationMs), RAMP_START);

test("a ramp starts when the lead moves to an earlier backend back from down, and not at start", (t) => {
  t.is(rampAfter(400, allUp).ramp, null);
  t.is(rampAfter(400, allUp, aDown).ramp, null);
  t.deepEqual(rampAfter(400, allUp, aDown, aBack).ramp, { backend: 0, since: 2, upSince: 2 });
  // Nobody else up: the whole share at once.
  const onlyA = after(
    aBack,
    { type: "probe-failed", backend: 1, reason: "x", at: 3 },
    { type: "probe-failed", backend: 2, reason: "x", at: 3 },
  );
  t.is(rampAfter(400, allUp, aDown, onlyA).ramp, null);
});

test("a backend up at its first check (a deciding check at start) takes its full share at once", (t) => {
  const checked = backendsOf(
    backends.map((b) => ({ address: b.address, label: b.label })),
    { check: { kind: "redis" } },
  );
  const start = initialHealth(checked);
  t.false(start.backends[0]?.up);
  // B answers first, then A: A comes up ahead of B, but it was never down.
  const bFirst = after(start, { type: "probe-ok", backend: 1, at: 1 });
  const aNext = after(bFirst, { type: "probe-ok", backend: 0, at: 2 });
  t.is(rampAfter(400, start, bFirst, aNext).ramp, null);
  // Its first check failed: it was down, so it ramps when it comes back.
  const aFailed = after(bFirst, { type: "probe-failed", backend: 0, reason: "x", at: 2 });
  const aBackLater = after(aFailed, { type: "probe-ok", backend: 0, at: 3 });
  t.deepEqual(rampAfter(400, start, bFirst, aFailed, aBackLater).ramp, {
    backend: 0,
    since: 3,
    upSince: 3,
  });
});

test("a ramp lasts its duration while its backend stays the lead", (t) => {
  const ramping = rampAfter(400, allUp, aDown, aBack);
  const ramp = ramping.ramp;
  t.is(stepRamp(ramping, aBack, 300, 400).ramp, ramp);
  t.is(stepRamp(ramping, aBack, 402, 400).ramp, null);
  t.is(stepRamp(ramping, aDown, 300, 400).ramp, null);
  // Down and up again between two looks: a new up period, a new ramp.
  const again = after(
    aBack,
    { type: "probe-failed", backend: 0, reason: "x", at: 200 },
    { type: "probe-ok", backend: 0, at: 250 },
  );
  t.deepEqual(stepRamp(ramping, again, 260, 400).ramp, { backend: 0, since: 260, upSince: 250 });
});

test("the route during a ramp is the healthy one with the ramping backend's share", (t) => {
  const ramp = { backend: 0, since: 2, upSince: 2 };
  const during = rampRoute(aBack, ramp, 252, 400);
  t.deepEqual(
    during.map((b) => b.index),
    [0, 1, 2],
  );
  t.is(shareOf(during), 0.5);
  t.is(shareOf(rampRoute(aBack, ramp, 402, 400)), 1);
  t.is(shareOf(rampRoute(aBack, null, 252, 400)), 1);
  // Its backend down: the ramp no longer applies to whoever leads.
  t.deepEqual(
    rampRoute(aDown, ramp, 252, 400).map((b) => b.index),
    [1, 2],
  );
  t.is(shareOf(rampRoute(aDown, ramp, 252, 400)), 1);
});
