import test from "ava";
import { map } from "rxjs";
import { initialHealth, reduceHealth } from "../../src/domain/health.js";
import { statsSnapshots } from "../../src/streams/stats-snapshots.js";
import { backends, testScheduler } from "../helpers/marbles.js";

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
