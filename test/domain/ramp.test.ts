import test from "ava";
import { initialHealth, reduceHealth } from "../../src/domain/health.js";
import {
  nextRampStepAt,
  rampRoute,
  rampShare,
  rampStepMs,
  stepRamp,
} from "../../src/domain/ramp.js";
import { shareOf } from "../../src/domain/route.js";
import { backends } from "../helpers/marbles.js";

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
const aDown = reduceHealth(allUp, { type: "probe-failed", backend: 0, reason: "x", at: 1 });
const aBack = reduceHealth(aDown, { type: "probe-ok", backend: 0, at: 2 });

test("a ramp starts when the lead moves to an earlier backend, and not at start", (t) => {
  t.is(stepRamp(null, null, allUp, 0, 400), null);
  t.is(stepRamp(null, 0, aDown, 1, 400), null);
  t.deepEqual(stepRamp(null, 1, aBack, 2, 400), { backend: 0, since: 2, upSince: 2 });
  // Nobody else up: the whole share at once.
  const onlyA = reduceHealth(
    reduceHealth(aBack, { type: "probe-failed", backend: 1, reason: "x", at: 3 }),
    { type: "probe-failed", backend: 2, reason: "x", at: 3 },
  );
  t.is(stepRamp(null, 1, onlyA, 3, 400), null);
});

test("a ramp lasts its duration while its backend stays the lead", (t) => {
  const ramp = { backend: 0, since: 2, upSince: 2 };
  t.is(stepRamp(ramp, 0, aBack, 300, 400), ramp);
  t.is(stepRamp(ramp, 0, aBack, 402, 400), null);
  t.is(stepRamp(ramp, 0, aDown, 300, 400), null);
  // Down and up again between two looks: a new up period, a new ramp.
  const again = reduceHealth(
    reduceHealth(aBack, { type: "probe-failed", backend: 0, reason: "x", at: 200 }),
    { type: "probe-ok", backend: 0, at: 250 },
  );
  t.deepEqual(stepRamp(ramp, 0, again, 260, 400), { backend: 0, since: 260, upSince: 250 });
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
