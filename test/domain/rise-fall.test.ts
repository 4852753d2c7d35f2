import test from "ava";
import { makeBackends } from "../../src/domain/backend.js";
import {
  type HealthEvent,
  type HealthState,
  initialHealth,
  stepHealth,
} from "../../src/domain/health.js";

const [primary] = makeBackends([{ host: "127.0.0.1", port: 7001 }]).map((b) => ({
  ...b,
  rise: 3,
  fall: 2,
}));
const start = initialHealth(primary === undefined ? [] : [primary]);
const ok = (at: number): HealthEvent => ({ type: "probe-ok", backend: 0, at });
const refused = (at: number): HealthEvent => ({
  type: "connect-failed",
  backend: 0,
  reason: "refused",
  at,
});

/** Runs events, returning each step's status and transition types. */
const run = (state: HealthState, events: ReadonlyArray<HealthEvent>) =>
  events.reduce<{ state: HealthState; seen: string[] }>(
    (acc, event) => {
      const step = stepHealth(acc.state, event);
      const b = step.state.backends[0];
      const status = b?.status.kind ?? "?";
      const types = step.transitions.map((e) => e.type).join("+");
      return { state: step.state, seen: [...acc.seen, `${status}${b?.up ? "" : "!"} ${types}`] };
    },
    { state, seen: [] },
  );

test("fall: an up backend takes clients until `fall` failures in a row mark it down", (t) => {
  t.deepEqual(run(start, [refused(1), ok(2), refused(3), refused(4)]).seen, [
    "falling connect-failed+backend-falling",
    "up ",
    "falling connect-failed+backend-falling",
    "down! connect-failed+backend-down",
  ]);
});

test("rise: a down backend takes no clients until `rise` good checks in a row; a failure starts over", (t) => {
  const down = run(start, [refused(1), refused(2)]).state;
  const { state, seen } = run(down, [ok(10), ok(20), refused(25), ok(30), ok(40), ok(50)]);
  t.deepEqual(seen, [
    "rising! backend-rising",
    "rising! backend-rising",
    "down! connect-failed",
    "rising! backend-rising",
    "rising! backend-rising",
    "up backend-up",
  ]);
  const b = state.backends[0];
  t.is(b?.upSince, 50);
  t.is(b?.pastDowntimeMs, 48);
});

test("the transitions are the reducer's own: backend-up carries the downtime it added", (t) => {
  const down = run(start, [refused(1), refused(2)]).state;
  const steps = [ok(10), ok(20), ok(30)].reduce((acc, event) => stepHealth(acc.state, event), {
    state: down,
    transitions: [],
  } as ReturnType<typeof stepHealth>);
  t.like(steps.transitions[0], { type: "backend-up", downtimeMs: 28, at: 30 });
  t.is(steps.state.backends[0]?.pastDowntimeMs, 28);
});
