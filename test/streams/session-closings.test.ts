import test from "ava";
import { type Observable, asyncScheduler, map } from "rxjs";
import type { Backend } from "../../src/domain/backend.js";
import { type Route, withShare } from "../../src/domain/route.js";
import type { OnDown, OnFailback, SessionClosing } from "../../src/domain/session-policy.js";
import { sessionClosings } from "../../src/streams/session-closings.js";
import { A, B, C, testScheduler } from "../helpers/marbles.js";

const letter = (b: Backend): string => "ABC"[b.index] ?? "?";

/** An order as text: "B>A" (failback to A), "A!" (marked down). */
const asText = map((order: SessionClosing) =>
  order.reason === "failback"
    ? `${letter(order.backend)}>${letter(order.to)}`
    : `${letter(order.backend)}!`,
);

const routes: Record<string, Route> = {
  a: [A, B, C],
  b: [B, C],
  c: [C],
  x: [A, C],
  y: [B, A, C],
  h: withShare([A, B], 0.5),
  f: [A, B],
  s: [B],
  z: [],
};

const closings = (
  route$: Observable<Route>,
  downs$: Observable<Backend>,
  onDown: OnDown,
  onFailback: OnFailback,
): Observable<string> =>
  // Inside TestScheduler.run, asyncScheduler is virtual.
  sessionClosings(route$, downs$, { onDown, onFailback, scheduler: asyncScheduler }).pipe(asText);

const KEEP: OnFailback = { kind: "keep" };
const CLOSE: OnFailback = { kind: "close" };
const drain = (drainMs: number): OnFailback => ({ kind: "drain", drainMs });

test("on-down close: a backend marked down has its connections closed at once", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const route$ = hot("a-b----", routes);
    const downs$ = hot("--A--B-", { A, B });
    expectObservable(closings(route$, downs$, "close", KEEP)).toBe("--A--B-", {
      A: "A!",
      B: "B!",
    });
  });
});

test("on-down keep: a backend marked down keeps its connections", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const route$ = hot("a-b----", routes);
    const downs$ = hot("--A--B-", { A, B });
    expectObservable(closings(route$, downs$, "keep", KEEP)).toBe("-------");
  });
});

test("failback close: the connections of every later backend that was in a route close at once", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    // A fails (BC), then B (C); B comes back: C closes; A comes back: B and C close.
    const route$ = hot("a-b-c-b--a-", routes);
    expectObservable(closings(route$, hot<Backend>("-"), "keep", CLOSE)).toBe("------x--(yz)-", {
      x: "C>B",
      y: "B>A",
      z: "C>A",
    });
  });
});

test("the first route and a route whose first backend stays or moves later are no failback", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    // ABC, BC (A down), C (B down), AC... is a failback; but first ABC and BC, C are not.
    const route$ = hot("a-b-c-c-", routes);
    expectObservable(closings(route$, hot<Backend>("-"), "close", CLOSE)).toBe("--------");
  });
});

test("failback keep emits nothing, on-down keep too", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const route$ = hot("a-b-a-c-a", routes);
    expectObservable(closings(route$, hot("--A-", { A }), "keep", KEEP)).toBe("---------");
  });
});

test("drain: later backends close the drain time after the failback", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const route$ = hot("b-a-----", routes);
    // The failback at 2: B and C close at 2 + 10.
    expectObservable(closings(route$, hot<Backend>("-"), "keep", drain(10)), "^ 30ms !").toBe(
      "-- 10ms (xy)",
      { x: "B>A", y: "C>A" },
    );
  });
});

test("drain: a backend that leads the route again within the drain time is not closed", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    // Failback to A at 2 (drain B till 12); A fails again at 5 (B leads); A back at 8: B drains
    // from 8, closing at 18 and not at 12.
    const route$ = hot("s-f--s--f", routes);
    expectObservable(closings(route$, hot<Backend>("-"), "keep", drain(10)), "^ 30ms !").toBe(
      "-------- 10ms x",
      { x: "B>A" },
    );
  });
});

test("drain: a backend that leads the route for good is never closed", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const route$ = hot("s-f--s", routes);
    expectObservable(closings(route$, hot<Backend>("-"), "keep", drain(10)), "^ 30ms !").toBe("-");
  });
});

test("drain: a second failback within the drain time keeps the first deadline and adds its own", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    // C leads; B back at 2 (C drains till 12); A back at 5 (B drains till 15, C keeps 12).
    const route$ = hot("c-b--a", routes);
    expectObservable(closings(route$, hot<Backend>("-"), "keep", drain(10)), "^ 30ms !").toBe(
      "------------x--y",
      { x: "C>B", y: "B>A" },
    );
  });
});

test("drain: a backend marked down with on-down close is closed at once, not again later", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const route$ = hot("s-f-------", routes);
    const downs$ = hot("----B-----", { B });
    expectObservable(closings(route$, downs$, "close", drain(10)), "^ 30ms !").toBe("----x", {
      x: "B!",
    });
  });
});

test("a ramp route (share below 1) is not a failback until its share reaches 1", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    // B leads; a ramp to A at 2 (half the new clients); the full share at 6 is the failback.
    const route$ = hot("s-h---f", routes);
    expectObservable(closings(route$, hot<Backend>("-"), "keep", CLOSE)).toBe("------x", {
      x: "B>A",
    });
  });
});

test("a ramp route that ends before share 1 moves no connections", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    // The ramp to A gives up (A fails again): B leads at full share, as before.
    const route$ = hot("s-h--s", routes);
    expectObservable(closings(route$, hot<Backend>("-"), "keep", CLOSE)).toBe("------");
  });
});

test("a failback after a moment without any route still closes the later backends", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const route$ = hot("b-z-a", routes);
    expectObservable(closings(route$, hot<Backend>("-"), "keep", CLOSE)).toBe("----(xy)", {
      x: "B>A",
      y: "C>A",
    });
  });
});

test("a failback to a backend that is not the primary closes only the backends after it", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    // C leads with A, B down; B comes back first: only C closes; A's sessions are not touched.
    const route$ = hot("a-c-y", routes);
    expectObservable(closings(route$, hot<Backend>("-"), "keep", CLOSE)).toBe("----x", {
      x: "C>B",
    });
  });
});
