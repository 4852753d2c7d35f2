import test from "ava";
import { asyncScheduler, map } from "rxjs";
import { initialHealth, reduceHealth } from "../../src/domain/health.js";
import { MAX_TIMER_DELAY_MS } from "../../src/domain/timer-limit.js";
import { statsSnapshots } from "../../src/streams/stats-snapshots.js";
import { backends, testScheduler } from "../helpers/marbles.js";
import { recordingScheduler } from "../helpers/recording-scheduler.js";

const allUp = initialHealth(backends);
const aDown = reduceHealth(allUp, { type: "connect-failed", backend: 0, reason: "refused", at: 5 });

test("a snapshot every stats interval, with the downtime of the outage in progress", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const health$ = hot("a 4ms b", { a: allUp, b: aDown });
    const downtimes$ = statsSnapshots(health$, 10).pipe(
      map((s) => `${s.at}:${s.backends[0]?.downtimeMs}`),
    );
    expectObservable(downtimes$, "30ms !").toBe("10ms x 9ms y", { x: "10:5", y: "20:15" });
  });
});

test("a stats interval of 0 turns stats off", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const health$ = hot("a", { a: allUp });
    expectObservable(statsSnapshots(health$, 0)).toBe("|");
  });
});

test("a 600h stats interval snapshots at 600h and 1200h, never waiting longer than a timer holds", (t) => {
  const h600 = 600 * 3_600_000;
  const { scheduler, delays } = recordingScheduler(asyncScheduler);
  testScheduler(t).run(({ hot, expectObservable }) => {
    const health$ = hot("a", { a: allUp });
    const times$ = statsSnapshots(health$, h600, scheduler).pipe(map((s) => s.at));
    expectObservable(times$, `${2 * h600 + 1}ms !`).toBe(`${h600}ms x ${h600 - 1}ms y`, {
      x: h600,
      y: 2 * h600,
    });
  });
  t.true(
    delays.every((delay) => delay <= MAX_TIMER_DELAY_MS),
    `scheduled ${delays.join(", ")}`,
  );
});
