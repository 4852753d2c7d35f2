import test from "ava";
import { makeBackends } from "../../src/domain/backend.js";
import { planBackends } from "../../src/domain/backend-plan.js";
import {
  type HealthEvent,
  type HealthState,
  initialHealth,
  ranked,
  reduceHealth,
  stepHealth,
} from "../../src/domain/health.js";
import { firstHealthyRoute } from "../../src/domain/route.js";
import { snapshotOf } from "../../src/domain/stats.js";

const address = (port: number) => ({ host: "127.0.0.1", port });
const running = makeBackends([address(7001), address(7002)]);

const reconfigure = (state: HealthState, ports: number[], at = 100): HealthEvent => {
  const plan = planBackends(
    state.backends.map((b) => b.backend),
    ranked(state).map((b) => b.backend.index),
    makeBackends(ports.map(address)),
  );
  return { type: "reconfigure", ...plan, backends: plan.backends, at };
};

test("a reload keeps a listed backend's health and counters, starts a new one, retires the rest", (t) => {
  let state = initialHealth(running, 0);
  state = reduceHealth(state, { type: "connected", backend: 1, at: 1 });
  state = reduceHealth(state, { type: "connect-failed", backend: 0, reason: "refused", at: 2 });
  const step = stepHealth(state, reconfigure(state, [7003, 7002]));
  const next = step.state;
  // 7003 first, in a new slot; 7002 kept with its client; 7001 retired.
  t.deepEqual(next.order, [2, 1]);
  t.deepEqual(
    firstHealthyRoute(next).map((b) => b.id),
    ["127.0.0.1:7003", "127.0.0.1:7002"],
  );
  t.is(next.backends[1]?.requests, 1);
  t.is(next.backends[1]?.active, 1);
  t.true(next.backends[0]?.retired);
  t.false(next.backends[0]?.up);
  t.deepEqual(
    step.transitions.map((e) => e.type),
    ["config-reloaded"],
  );
  const [event] = step.transitions;
  if (event?.type !== "config-reloaded") return t.fail();
  t.deepEqual(
    [event.added.map((b) => b.id), event.removed.map((b) => b.id)],
    [["127.0.0.1:7003"], ["127.0.0.1:7001"]],
  );
});

test("a retired backend's connections are still counted; no check or client brings it back", (t) => {
  let state = initialHealth(running, 0);
  state = reduceHealth(state, { type: "connected", backend: 0, at: 1 });
  state = reduceHealth(state, reconfigure(state, [7002]));
  state = reduceHealth(state, { type: "probe-ok", backend: 0, at: 3 });
  state = reduceHealth(state, { type: "connected", backend: 0, at: 4 });
  t.false(state.backends[0]?.up);
  // Shown (stats, metrics, status) while it holds connections, after the listed ones.
  t.deepEqual(
    snapshotOf(state, 5).backends.map((b) => b.label),
    ["127.0.0.1:7002", "127.0.0.1:7001"],
  );
  state = reduceHealth(state, { type: "closed", backend: 0, bytesIn: 5, bytesOut: 7, at: 5 });
  t.is(state.backends[0]?.active, 1);
  t.is(state.totals.active, 1);
  state = reduceHealth(state, { type: "closed", backend: 0, bytesIn: 0, bytesOut: 0, at: 6 });
  t.deepEqual(
    snapshotOf(state, 6).backends.map((b) => b.label),
    ["127.0.0.1:7002"],
  );
  t.deepEqual(
    firstHealthyRoute(state).map((b) => b.id),
    ["127.0.0.1:7002"],
  );
  // Listed again: back in the list with its health.
  state = reduceHealth(state, reconfigure(state, [7001, 7002]));
  t.true(state.backends[0]?.up);
  t.is(state.backends[0]?.retired, undefined);
  t.deepEqual(
    firstHealthyRoute(state).map((b) => b.id),
    ["127.0.0.1:7001", "127.0.0.1:7002"],
  );
});

test("an operator's hold outlasts a reload", (t) => {
  let state = initialHealth(running, 0);
  state = reduceHealth(state, { type: "admin", backend: 0, action: "drain", at: 1 });
  state = reduceHealth(state, reconfigure(state, [7001, 7002]));
  t.false(state.backends[0]?.up);
  t.is(state.backends[0]?.admin, "drain");
});
