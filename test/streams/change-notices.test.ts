import test from "ava";
import { asyncScheduler, map } from "rxjs";
import type { ChangeNotice } from "../../src/domain/change-notice.js";
import type { ProxyEvent } from "../../src/domain/proxy-event.js";
import type { Route } from "../../src/domain/route.js";
import { changeNotices } from "../../src/streams/change-notices.js";
import { A, B, C, testScheduler } from "../helpers/marbles.js";

const letters = (route: Route): string => route.map((b) => "ABC"[b.index]).join("");

/** A notice as text: "ABC>BC" (route change), "A-@BC" (A down, route then BC). */
const asText = map((notice: ChangeNotice) =>
  notice.type === "route-changed"
    ? `${letters(notice.previous)}>${letters(notice.route)}@${notice.at}`
    : `${"ABC"[notice.backend.index]}${
        { "backend-down": "-", "backend-up": "+", "backend-rising": "/", "backend-falling": "\\" }[
          notice.type
        ]
      }@${letters(notice.route)}`,
);

const routes: Record<string, Route> = { a: [A, B, C], b: [B, C], c: [C], z: [] };

const events: Record<string, ProxyEvent> = {
  d: { type: "backend-down", backend: A, reason: "refused", at: 0 },
  u: { type: "backend-up", backend: A, downtimeMs: 5, at: 0 },
  r: { type: "backend-rising", backend: A, passed: 1, rise: 2, at: 0 },
  f: { type: "backend-falling", backend: B, failed: 1, fall: 2, reason: "timeout", at: 0 },
  x: { type: "connect-failed", backend: A, reason: "refused", at: 0 },
  p: { type: "probe-failed", backend: A, reason: "refused", at: 0 },
  s: { type: "sessions-closed", backend: B, reason: "failback", to: A, at: 0 },
  n: { type: "no-backend", at: 0 },
};

test("route changes are told with the route before; the first route is not a change", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const route$ = hot("a-b--c-a", routes);
    const events$ = hot("--------", events);
    expectObservable(changeNotices(route$, events$, asyncScheduler).pipe(asText)).toBe("--x--y-z", {
      x: "ABC>BC@2",
      y: "BC>C@5",
      z: "C>ABC@7",
    });
  });
});

test("the same route again is no change", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const route$ = hot("a-a-b-b", routes);
    expectObservable(
      changeNotices(route$, hot("-------", events), asyncScheduler).pipe(asText),
    ).toBe("----x--", { x: "ABC>BC@4" });
  });
});

test("backend changes carry the route as it stands; per-connection events are left out", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    const route$ = hot("a----b----a", routes);
    const events$ = hot("-fxpd-srun-", events);
    expectObservable(changeNotices(route$, events$, asyncScheduler).pipe(asText)).toBe(
      "-f--dx-ru-y",
      { f: "B\\@ABC", d: "A-@ABC", x: "ABC>BC@5", r: "A/@BC", u: "A+@BC", y: "BC>ABC@10" },
    );
  });
});

test("a backend change is told after the route it brings in the same instant", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    // As in the proxy: a health step's event comes before the route it brings.
    const events$ = hot("--d-----u", events);
    const route$ = hot("a-b-----a", routes);
    expectObservable(changeNotices(route$, events$, asyncScheduler).pipe(asText)).toBe(
      "--(dx)--(uy)",
      { d: "A-@BC", x: "ABC>BC@2", u: "A+@ABC", y: "BC>ABC@8" },
    );
  });
});

test("a backend change before any route carries an empty route", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    expectObservable(
      changeNotices(hot("--a", routes), hot("d--", events), asyncScheduler).pipe(asText),
    ).toBe("d--", { d: "A-@" });
  });
});

test("a backend change keeps its own fields", (t) => {
  testScheduler(t).run(({ hot, expectObservable }) => {
    expectObservable(changeNotices(hot("a", routes), hot("-d", events), asyncScheduler)).toBe(
      "-d",
      { d: { ...events["d"], route: routes["a"] } },
    );
  });
});
