import test from "ava";
import { adminStatus } from "../../src/domain/admin-status.js";
import { initialHealth } from "../../src/domain/health.js";
import { after, backends } from "../helpers/marbles.js";

const status = (health: ReturnType<typeof initialHealth>) =>
  adminStatus({
    version: "1.2.3",
    startedAt: 0,
    now: 60_000,
    listen: "127.0.0.1:4000",
    route: backends,
    health,
    failures: new Map(),
  });

test("lastCheck is null for a backend never checked", (t) => {
  t.deepEqual(
    status(initialHealth(backends)).backends.map((b) => b.lastCheck),
    [null, null, null],
  );
});

test("lastCheck shows each backend's latest check: verdict, ISO time, latency and reason", (t) => {
  const health = after(
    initialHealth(backends),
    { type: "probe-ok", backend: 0, latencyMs: 1.25, at: 1_000 },
    { type: "probe-failed", backend: 1, reason: "connect ECONNREFUSED", latencyMs: 0.5, at: 2_000 },
    { type: "probe-ok", backend: 2, at: 3_000 },
  );
  const [a, b, c] = status(health).backends;
  t.deepEqual(a?.lastCheck, {
    ok: true,
    at: "1970-01-01T00:00:01.000Z",
    latencyMs: 1.25,
    reason: null,
  });
  t.deepEqual(b?.lastCheck, {
    ok: false,
    at: "1970-01-01T00:00:02.000Z",
    latencyMs: 0.5,
    reason: "connect ECONNREFUSED",
  });
  // A check that did not measure itself: the latency is null, not made up.
  t.deepEqual(c?.lastCheck, {
    ok: true,
    at: "1970-01-01T00:00:03.000Z",
    latencyMs: null,
    reason: null,
  });
  t.is(b?.state, "down");
});

test("lastCheck survives the JSON GET /status sends", (t) => {
  const health = after(initialHealth(backends), {
    type: "probe-failed",
    backend: 0,
    reason: "check timed out after 5s",
    latencyMs: 5_000,
    at: 7_000,
  });
  const body = JSON.parse(JSON.stringify(status(health))) as ReturnType<typeof status>;
  t.deepEqual(body.backends[0]?.lastCheck, {
    ok: false,
    at: "1970-01-01T00:00:07.000Z",
    latencyMs: 5_000,
    reason: "check timed out after 5s",
  });
  t.is(body.backends[1]?.lastCheck, null);
});
