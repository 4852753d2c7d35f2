import test from "ava";
import { asyncScheduler } from "rxjs";
import { withShare } from "../../src/domain/route.js";
import { routeEvents } from "../../src/streams/route-events.js";
import { A, B, testScheduler } from "../helpers/marbles.js";

test("the replayed route is skipped; each change after it is an event with ids and its time", (t) => {
  testScheduler(t).run(({ cold, expectObservable }) => {
    const route$ = cold("a-b--c", { a: [A, B], b: [B], c: [A, B] });
    expectObservable(routeEvents(route$, asyncScheduler)).toBe("--b--c", {
      b: { type: "route", backends: [B.id], at: 2 },
      c: { type: "route", backends: [A.id, B.id], at: 5 },
    });
  });
});

test("a route equal to the last one is no event; a ramp's share is told while below 1", (t) => {
  testScheduler(t).run(({ cold, expectObservable }) => {
    const route$ = cold("a-b-c-d", {
      a: [B, A],
      b: [B, A],
      c: withShare([A, B], 0.25),
      d: [A, B],
    });
    expectObservable(routeEvents(route$, asyncScheduler)).toBe("----c-d", {
      c: { type: "route", backends: [A.id, B.id], share: 0.25, at: 4 },
      d: { type: "route", backends: [A.id, B.id], at: 6 },
    });
  });
});
