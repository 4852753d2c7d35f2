import test from "ava";
import { backendsOf } from "../../src/domain/backend.js";
import {
  type HealthEvent,
  type HealthState,
  initialHealth,
  stepHealth,
} from "../../src/domain/health.js";

const [replica, plain] = backendsOf(
  [
    { address: { host: "127.0.0.1", port: 5432 }, label: "db1:5432" },
    { address: { host: "127.0.0.1", port: 5433 }, label: "db2:5433", check: { kind: "tcp" } },
  ],
  { check: { kind: "pgsql-primary" } },
);
const backends = [replica!, plain!];

/** Runs events from the start state; each step's statuses and the transitions it caused. */
const run = (events: ReadonlyArray<HealthEvent>) =>
  events.reduce<{ state: HealthState; seen: string[] }>(
    (acc, event) => {
      const step = stepHealth(acc.state, event);
      const transitions = step.transitions.map((e) =>
        e.type === "backend-down" ? `${e.type}: ${e.reason}` : e.type,
      );
      return { state: step.state, seen: [...acc.seen, ...transitions] };
    },
    { state: initialHealth(backends, 0), seen: [] },
  );

test("a backend whose check decides takes no clients until its first check passes", (t) => {
  const start = initialHealth(backends, 0);
  t.deepEqual(start.backends[0]?.status, { kind: "rising", passed: 0 });
  t.false(start.backends[0]?.up);
  // A backend with a plain connect check starts up, as in 1.0.
  t.true(start.backends[1]?.up);
  const { state, seen } = run([{ type: "probe-ok", backend: 0, at: 5 }]);
  t.true(state.backends[0]?.up);
  t.deepEqual(seen, ["backend-up"]);
});

test("at start the first good check is enough, whatever rise says; after an outage rise counts", (t) => {
  const [slow] = backendsOf([{ address: { host: "a", port: 1 }, label: "a:1", rise: 3 }], {
    check: { kind: "redis-primary" },
  });
  const start = initialHealth([slow!], 0);
  const up = stepHealth(start, { type: "probe-ok", backend: 0, at: 1 });
  t.true(up.state.backends[0]?.up);
  const down = stepHealth(up.state, { type: "probe-failed", backend: 0, reason: "x", at: 2 });
  const once = stepHealth(down.state, { type: "probe-ok", backend: 0, at: 3 });
  t.deepEqual(once.state.backends[0]?.status, { kind: "rising", passed: 1 });
});

test("a first check that fails says the backend is down, and why", (t) => {
  const { state, seen } = run([
    { type: "probe-failed", backend: 0, reason: "in recovery (replica)", at: 5 },
  ]);
  t.is(state.backends[0]?.status.kind, "down");
  t.deepEqual(seen, ["probe-failed", "backend-down: in recovery (replica)"]);
});

test("a client's connect is no check when the check decides: a replica accepts connects too", (t) => {
  const down = run([
    { type: "probe-ok", backend: 0, at: 1 },
    { type: "probe-failed", backend: 0, reason: "read_only=1", at: 2 },
  ]).state;
  const step = stepHealth(down, { type: "connected", backend: 0, at: 3 });
  t.false(step.state.backends[0]?.up);
  t.deepEqual(step.transitions, []);
  // Its traffic is still counted.
  t.is(step.state.backends[0]?.requests, 1);
  // A plain backend's connect still brings it back at once.
  const plainDown = stepHealth(down, {
    type: "connect-failed",
    backend: 1,
    reason: "refused",
    at: 4,
  }).state;
  t.true(stepHealth(plainDown, { type: "connected", backend: 1, at: 5 }).state.backends[1]?.up);
});

test("a backend's own check wins over the proxy's; ids are names, else labels", (t) => {
  const [named, unnamed] = backendsOf(
    [
      { address: { host: "a", port: 1 }, label: "a:1", name: "main", check: { kind: "redis" } },
      { address: { host: "b", port: 2 }, label: "b:2", rise: 3 },
    ],
    { check: { kind: "redis-primary" }, rise: 2, fall: 4 },
  );
  t.deepEqual(named, {
    index: 0,
    id: "main",
    address: { host: "a", port: 1 },
    label: "a:1",
    name: "main",
    check: { kind: "redis" },
    rise: 2,
    fall: 4,
  });
  t.deepEqual(unnamed, {
    index: 1,
    id: "b:2",
    address: { host: "b", port: 2 },
    label: "b:2",
    check: { kind: "redis-primary" },
    rise: 3,
    fall: 4,
  });
});
