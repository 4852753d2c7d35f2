import test from "ava";
import { readFileSync } from "node:fs";
import { NEVER, type Observable, delay, map } from "rxjs";
import { TestScheduler } from "rxjs/testing";
import {
  type Backend,
  InvalidOptionsError,
  type Probe,
  type ProbeResult,
  type ProxyEvent,
  type RoutePolicy,
  createControlPlane,
  firstHealthy,
} from "../src/index.js";

// <readme-example>
test("virtual time: the primary fails its start-up check and takes traffic back at the next probe", (t) => {
  const scheduler = new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
  scheduler.run(({ cold, expectObservable }) => {
    // The primary refuses checks for its first 10 s; the standby always answers.
    const probe: Probe = (backend: Backend): Observable<ProbeResult> =>
      cold("-r|", {
        r:
          backend.index === 0 && scheduler.now() < 10_000
            ? { ok: false, reason: "connection refused" }
            : { ok: true },
      });
    const control = createControlPlane({
      backends: ["db1:3306", "db2:3306"],
      probe,
      probeDelay: "10s",
      scheduler,
    });
    const route$ = control.route$.pipe(map((route) => route.map((b) => b.label).join(" ")));
    // Both at start, the standby alone after the failed check, the primary again at 10 s.
    expectObservable(route$, "^ 30s !").toBe("a b 9999ms c", {
      a: "db1:3306 db2:3306",
      b: "db2:3306",
      c: "db1:3306 db2:3306",
    });
    // Stopping ends the probe timer, so run() returns.
    scheduler.schedule(() => control.stop(), 60_000);
  });
});
// </readme-example>

test("stop() ends every timer: run() returns and the streams complete", (t) => {
  const scheduler = new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
  scheduler.run(({ cold, expectObservable }) => {
    const control = createControlPlane({
      backends: ["127.0.0.1:1"],
      probe: () => cold("-r|", { r: { ok: true } as const }),
      probeDelay: 10,
      statsInterval: 5,
      scheduler,
    });
    expectObservable(control.stats$.pipe(map(() => "s"))).toBe("5ms s 4ms s 4ms s 4ms |", {
      s: "s",
    });
    expectObservable(control.route$.pipe(map((route) => route.length))).toBe("a 19ms |", {
      a: 1,
    });
    scheduler.schedule(() => control.stop(), 20);
  });
});

test("emit feeds connection outcomes in synchronously: the route follows at once", (t) => {
  const scheduler = new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
  scheduler.run(({ expectObservable }) => {
    const control = createControlPlane({
      backends: ["127.0.0.1:1", "127.0.0.1:2"],
      probe: () => NEVER,
      connectTimeout: "1h",
      scheduler,
    });
    scheduler.schedule(() => {
      control.emit({ type: "connect-failed", backend: 0, reason: "refused", at: 3 });
      t.deepEqual(
        control.currentRoute().map((b) => b.index),
        [1],
      );
    }, 3);
    expectObservable(control.route$.pipe(map((r) => r.length)), "^ 5ms !").toBe("a 2ms b", {
      a: 2,
      b: 1,
    });
    scheduler.schedule(() => control.stop(), 10);
  });
});

test("a policy that gives no route within a second gets a warning event (every client is refused)", (t) => {
  const scheduler = new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
  scheduler.run(({ expectObservable }) => {
    const control = createControlPlane({
      backends: ["127.0.0.1:1"],
      probe: () => NEVER,
      connectTimeout: "1h",
      route: () => NEVER,
      scheduler,
    });
    const warnings$ = control.events$.pipe(
      map((event: ProxyEvent) => (event.type === "warning" ? event.message : event.type)),
    );
    expectObservable(warnings$, "^ 2s !").toBe("1s w", {
      w: "no route 1s after start: every client is refused until the policy emits one",
    });
    scheduler.schedule(() => control.stop(), 5_000);
  });
});

test("createControlPlane checks its options as createFallbackProxy does, and rejects socket-only ones", (t) => {
  const error = t.throws(
    () =>
      createControlPlane({
        backends: ["db1"],
        probeDelay: Number.NaN,
        listen: ":7000",
      } as unknown as Parameters<typeof createControlPlane>[0]),
    { instanceOf: InvalidOptionsError },
  );
  t.deepEqual(error?.problems, [
    'options.backends[0]: invalid backend address "db1": missing port',
    'options.probeDelay: expected a finite number of milliseconds or a duration like "5s", got NaN',
    "options.listen: unknown option (known options: backends, connectTimeout, probeDelay, checkInterval, statsInterval, rise, fall, check, checkUser, checkPassword, checkDatabase, checkSend, checkExpect, route, probe, logger, scheduler)",
  ]);
});

test("the README's virtual-time example is the first test of this file", (t) => {
  const runBlock = (text: string): string => {
    const lines = text.split("\n");
    const start = lines.findIndex((line) =>
      line.includes("scheduler.run(({ cold, expectObservable })"),
    );
    const end = lines.findIndex((line, i) => i > start && line.includes("control.stop(), 60_000"));
    return lines
      .slice(start, end + 1)
      .map((line) => line.trim())
      .join("\n");
  };
  const readme = readFileSync("README.md", "utf8");
  const example = readme.slice(readme.indexOf("### Control plane without sockets"));
  const block = runBlock(example);
  t.true(block.length > 200);
  t.is(block, runBlock(readFileSync("test/control-plane.test.ts", "utf8")));
});

test("a backend's transition reaches events$ before the route change it causes", (t) => {
  const scheduler = new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
  scheduler.run(() => {
    const control = createControlPlane({
      backends: ["127.0.0.1:1", "127.0.0.1:2"],
      probe: () => NEVER,
      connectTimeout: "1h",
      scheduler,
    });
    const seen: string[] = [];
    control.events$.subscribe((event) => seen.push(event.type));
    control.route$.subscribe((route) => seen.push(`route ${route.map((b) => b.index).join("")}`));
    scheduler.schedule(() => {
      control.emit({ type: "connect-failed", backend: 0, reason: "refused", at: 3 });
      control.stop();
    }, 3);
    scheduler.flush();
    t.deepEqual(seen, ["route 01", "connect-failed", "backend-down", "route 1"]);
  });
});

test("a policy gets the proxy's scheduler in its context: a time-based policy runs in virtual time", (t) => {
  const scheduler = new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
  scheduler.run(({ expectObservable }) => {
    // Follows health 5 ms late, on the context's clock.
    const late: RoutePolicy = (health$, context) =>
      firstHealthy(health$, context).pipe(delay(5, context.scheduler));
    const control = createControlPlane({
      backends: ["127.0.0.1:1"],
      probe: () => NEVER,
      connectTimeout: "1h",
      route: late,
      scheduler,
    });
    expectObservable(control.route$.pipe(map((r) => r.length)), "^ 10ms !").toBe("5ms a", {
      a: 1,
    });
    scheduler.schedule(() => control.stop(), 20);
  });
});

test("createControlPlane refuses onDown and onFailback: without sockets there is nothing to close", (t) => {
  const error = t.throws(
    () =>
      createControlPlane({
        backends: ["db1:1"],
        onDown: "close",
        onFailback: "drain:1s",
      } as unknown as Parameters<typeof createControlPlane>[0]),
    { instanceOf: InvalidOptionsError },
  );
  t.is(error?.problems.length, 2);
  t.regex(error?.problems[0] ?? "", /^options\.onDown: unknown option/);
  t.regex(error?.problems[1] ?? "", /^options\.onFailback: unknown option/);
});

test("checks$ gives each check's verdict as it arrives, after health$ has it; not replayed", (t) => {
  const scheduler = new TestScheduler((actual, expected) => t.deepEqual(actual, expected));
  scheduler.run(({ cold, expectObservable }) => {
    const probe: Probe = (backend: Backend): Observable<ProbeResult> =>
      cold("-r|", {
        r:
          backend.index === 0
            ? { ok: false, reason: "connection refused", latencyMs: 0.5 }
            : { ok: true },
      });
    const control = createControlPlane({
      backends: ["db1:3306", "db2:3306"],
      probe,
      probeDelay: "10ms",
      connectTimeout: "1s",
      scheduler,
    });
    const seen: string[] = [];
    control.checks$.subscribe((check) => {
      // health$ already holds the verdict when checks$ tells it.
      let last: unknown;
      control.health$
        .subscribe((state) => (last = state.backends[check.backend.index]?.lastCheck))
        .unsubscribe();
      const { backend: _, ...rest } = check;
      seen.push(JSON.stringify(last) === JSON.stringify(rest) ? "same" : "differs");
    });
    const checks$ = control.checks$.pipe(
      map(({ backend, ...rest }) => ({ backend: backend.label, ...rest })),
    );
    expectObservable(checks$, "^ 15ms !").toBe("-(ab) 6ms c", {
      a: { backend: "db1:3306", ok: false, at: 1, latencyMs: 0.5, reason: "connection refused" },
      b: { backend: "db2:3306", ok: true, at: 1, latencyMs: null, reason: null },
      c: { backend: "db1:3306", ok: false, at: 11, latencyMs: 0.5, reason: "connection refused" },
    });
    // A late subscriber hears only what comes after it.
    expectObservable(checks$, "12ms ^ 10ms !").toBe("21ms c", {
      c: { backend: "db1:3306", ok: false, at: 21, latencyMs: 0.5, reason: "connection refused" },
    });
    scheduler.schedule(() => control.stop(), 30);
    scheduler.schedule(() => t.deepEqual(seen, ["same", "same", "same", "same"]), 29);
  });
});
