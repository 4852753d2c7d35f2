import test from "ava";
import { initialHealth, stepHealth } from "../../src/domain/health.js";
import { firstHealthyRoute } from "../../src/domain/route.js";
import { after, backends } from "../helpers/marbles.js";

const allUp = initialHealth(backends);

test("drain takes a backend out of the route, keeps its counters and live ones, and says so", (t) => {
  const { state, transitions } = stepHealth(allUp, {
    type: "admin",
    backend: 0,
    action: "drain",
    at: 5,
  });
  t.is(state.backends[0]?.admin, "drain");
  t.false(state.backends[0]?.up);
  t.is(state.backends[0]?.status.kind, "up");
  t.deepEqual(
    firstHealthyRoute(state).map((b) => b.index),
    [1, 2],
  );
  t.deepEqual(transitions, [
    { type: "backend-admin", backend: backends[0], action: "drain", at: 5 },
  ]);
});

test("a held backend stays out of the route whatever its checks say; enable gives it back", (t) => {
  const held = after(allUp, { type: "admin", backend: 0, action: "maint", at: 1 });
  const checked = after(
    held,
    { type: "probe-failed", backend: 0, reason: "x", at: 2 },
    { type: "probe-ok", backend: 0, at: 3 },
    { type: "connected", backend: 0, at: 4 },
  );
  t.false(checked.backends[0]?.up);
  t.is(checked.backends[0]?.admin, "maint");
  const enabled = after(checked, { type: "admin", backend: 0, action: "enable", at: 5 });
  t.true(enabled.backends[0]?.up);
  t.false("admin" in (enabled.backends[0] ?? {}));
});

test("enable of a backend that went down while held leaves it down", (t) => {
  const down = after(
    allUp,
    { type: "admin", backend: 1, action: "drain", at: 1 },
    { type: "probe-failed", backend: 1, reason: "x", at: 2 },
    { type: "admin", backend: 1, action: "enable", at: 3 },
  );
  t.false(down.backends[1]?.up);
  t.is(down.backends[1]?.status.kind, "down");
});
