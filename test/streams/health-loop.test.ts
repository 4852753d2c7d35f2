import test from "ava";
import { type Observable, distinctUntilChanged, map } from "rxjs";
import type { Backend } from "../../src/domain/backend.js";
import type { HealthEvent } from "../../src/domain/health.js";
import type { ProbeResult } from "../../src/domain/probe.js";
import { healthLoop } from "../../src/streams/health-loop.js";
import { A, B, testScheduler } from "../helpers/marbles.js";

const ok: ProbeResult = { ok: true };
const refused: ProbeResult = { ok: false, reason: "connection refused" };

test("failback: a down primary is probed every probe-delay and comes back on the first success", (t) => {
  const scheduler = testScheduler(t);
  scheduler.run(({ hot, cold, expectObservable, flush }) => {
    const probed: string[] = [];
    // A's probes: fine at start, refused at 10ms, answered at 20ms. B always answers.
    const answers = new Map<number, ProbeResult>([
      [0, ok],
      [10, refused],
      [20, ok],
    ]);
    const probe = (backend: Backend): Observable<ProbeResult> => {
      probed.push(`${scheduler.now()}:${backend.label}`);
      const result = backend === A ? (answers.get(scheduler.now()) ?? refused) : ok;
      return cold("-r|", { r: result });
    };
    const connectionEvents$ = hot<HealthEvent>("5ms f", {
      f: { type: "connect-failed", backend: 0, reason: "connection refused", at: 5 },
    });
    const upFlags$ = healthLoop({
      backends: [A, B],
      connectionEvents$,
      probe,
      probeDelayMs: 10,
    }).pipe(
      map((step) => step.state.backends.map((b) => (b.up ? "u" : "d")).join("")),
      distinctUntilChanged(),
    );
    expectObservable(upFlags$, "35ms !").toBe("a 4ms b 15ms c", { a: "uu", b: "du", c: "uu" });
    flush();
    // Everything at start; then only the down primary; nothing once it is back.
    t.deepEqual(probed, [`0:${A.label}`, `0:${B.label}`, `10:${A.label}`, `20:${A.label}`]);
  });
});

test("transitions come out of the loop as events, stamped with the scheduler's time", (t) => {
  const scheduler = testScheduler(t);
  scheduler.run(({ cold, expectObservable }) => {
    const probe = (backend: Backend): Observable<ProbeResult> =>
      cold("--r|", { r: backend === A && scheduler.now() < 10 ? refused : ok });
    const events$ = healthLoop({
      backends: [A, B],
      connectionEvents$: cold(""),
      probe,
      probeDelayMs: 10,
    }).pipe(map((step) => step.transitions.map((e) => e.type).join(",")));
    // start: initial step; 2ms: A refused (failure + down), B ok; 12ms: A back.
    expectObservable(events$, "20ms !").toBe("a-(bc) 6ms d", {
      a: "",
      b: "probe-failed,backend-down",
      c: "",
      d: "backend-up",
    });
  });
});

test("rise 3: a primary that flaps every 300 ms moves the route at most once per rise window", (t) => {
  const scheduler = testScheduler(t);
  scheduler.run(({ cold, expectObservable }) => {
    const flappingA = { ...A, rise: 3 };
    // A answers for 300 ms, refuses for 300 ms, and so on; B always answers.
    const probe = (backend: Backend): Observable<ProbeResult> =>
      cold("-r|", {
        r: backend.index === 1 || Math.floor(scheduler.now() / 300) % 2 === 0 ? ok : refused,
      });
    // A client's connect to A fails at 350 ms (A's first bad phase): A goes down.
    const connectionEvents$ = cold<HealthEvent>("350ms f", {
      f: { type: "connect-failed", backend: 0, reason: "connection refused", at: 350 },
    });
    const route$ = healthLoop({
      backends: [flappingA, B],
      connectionEvents$,
      probe,
      probeDelayMs: 100,
    }).pipe(
      map((step) => step.state.backends.map((b) => (b.up ? "u" : "d")).join("")),
      distinctUntilChanged(),
    );
    // Probes at 400, 500 refused; 600, 700, 800 pass: up at 801 after three in a row (not at 601).
    expectObservable(route$, "2000ms !").toBe("a 349ms b 450ms a", { a: "uu", b: "du" });
  });
});
