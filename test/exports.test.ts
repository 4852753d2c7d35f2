import test from "ava";
import { type Observable, map } from "rxjs";
import { TestScheduler } from "rxjs/testing";
import {
  type HealthLoopOptions,
  type HealthState,
  type HealthStep,
  type Route,
  type RoutePolicy,
  downBackends,
  healthLoop,
  initialHealth,
  makeBackends,
  reduceHealth,
  stderrLogger,
  upBackends,
} from "../src/index.js";
import { captureStderr } from "./adapters/log/capture-stderr.js";

// What a program needs for its own policies and tests comes from the package itself.

/** Damped failback: a recovered backend takes new clients only once it has been up for `holdMs`. */
const dampedFailback =
  (holdMs: number): RoutePolicy =>
  (health$: Observable<HealthState>, { scheduler }): Observable<Route> =>
    health$.pipe(
      map((state) =>
        state.backends
          .filter((b) => b.up && b.upSince !== null && scheduler.now() - b.upSince >= holdMs)
          .map((b) => b.backend),
      ),
    );

const backends = makeBackends([
  { host: "127.0.0.1", port: 7001 },
  { host: "127.0.0.1", port: 7002 },
]);

test("a damped-failback policy built from the exported helpers, marble-tested", (t) => {
  const scheduler = new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
  scheduler.run(({ hot, expectObservable }) => {
    const start = initialHealth(backends, -1000);
    const down = reduceHealth(start, { type: "connect-failed", backend: 0, reason: "x", at: 1 });
    const back = reduceHealth(down, { type: "probe-ok", backend: 0, at: 3 });
    // A tick (same state again) once the hold time has passed.
    const health$ = hot("s-d-b 10ms b", { s: start, d: down, b: back });
    const route$ = dampedFailback(5)(health$, { scheduler, backends }).pipe(
      map((route) => route.map((b) => b.index).join("")),
    );
    expectObservable(route$).toBe("a-b-b 10ms a", { a: "01", b: "1" });
    t.deepEqual(
      upBackends(down).map((b) => b.index),
      [1],
    );
    t.deepEqual(
      downBackends(down).map((b) => b.index),
      [0],
    );
  });
});

test("healthLoop's option and step types are exported", (t) => {
  const scheduler = new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
  scheduler.run(({ cold, expectObservable }) => {
    const options: HealthLoopOptions = {
      backends,
      connectionEvents$: cold("-"),
      probe: () => cold("-r|", { r: { ok: true } as const }),
      probeDelayMs: 10,
      scheduler,
    };
    const ups$ = healthLoop(options).pipe(
      map((step: HealthStep) => step.state.backends.filter((b) => b.up).length),
    );
    expectObservable(ups$, "^ 5ms !").toBe("a(bb)", { a: 2, b: 2 });
  });
});

test.serial("stderrLogger writes the CLI's log lines to stderr, from its level up", async (t) => {
  const written = await captureStderr(async () => {
    const logger = stderrLogger("warn");
    logger.info("not shown");
    logger.warn("shown");
    await new Promise((resolve) => setImmediate(resolve));
  });
  t.regex(written, /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d WARN shown\n$/);
  t.false(stderrLogger().debugEnabled);
});
