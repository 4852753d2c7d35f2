import test from "ava";
import { makeBackends } from "../../src/domain/backend.js";
import {
  type HealthEvent,
  downtimeAt,
  initialHealth,
  reduceHealth,
} from "../../src/domain/health.js";
import { transitionsOf } from "../../src/domain/proxy-event.js";

const backends = makeBackends([
  { host: "127.0.0.1", port: 7001 },
  { host: "127.0.0.1", port: 7002 },
]);
const run = (events: ReadonlyArray<HealthEvent>) =>
  events.reduce(reduceHealth, initialHealth(backends));

test("backends start up with zeroed counters", (t) => {
  const state = initialHealth(backends);
  t.deepEqual(
    state.backends.map((b) => b.up),
    [true, true],
  );
  t.deepEqual(state.totals, { accepted: 0, refused: 0, active: 0 });
});

test("a failed connect marks the backend down and counts an error", (t) => {
  const state = run([{ type: "connect-failed", backend: 0, reason: "refused", at: 100 }]);
  t.false(state.backends[0]?.up);
  t.is(state.backends[0]?.downSince, 100);
  t.is(state.backends[0]?.errors, 1);
  t.true(state.backends[1]?.up);
});

test("repeated failures keep the outage's start and count every error", (t) => {
  const state = run([
    { type: "connect-failed", backend: 0, reason: "refused", at: 100 },
    { type: "probe-failed", backend: 0, reason: "refused", at: 200 },
  ]);
  t.is(state.backends[0]?.downSince, 100);
  t.is(state.backends[0]?.errors, 2);
});

test("a successful probe brings a backend back and adds the outage to its downtime", (t) => {
  const state = run([
    { type: "probe-failed", backend: 0, reason: "refused", at: 100 },
    { type: "probe-ok", backend: 0, at: 350 },
    { type: "connect-failed", backend: 0, reason: "refused", at: 1000 },
  ]);
  const primary = state.backends[0];
  t.false(primary?.up);
  t.is(primary?.pastDowntimeMs, 250);
  t.is(primary === undefined ? -1 : downtimeAt(primary, 1100), 350);
});

test("connections are counted per backend and in the totals, with bytes at close", (t) => {
  const state = run([
    { type: "accepted", at: 1 },
    { type: "connected", backend: 1, at: 2 },
    { type: "accepted", at: 3 },
    { type: "no-backend", at: 3 },
    { type: "closed", backend: 1, bytesIn: 10, bytesOut: 20, at: 4 },
  ]);
  t.deepEqual(state.totals, { accepted: 2, refused: 1, active: 0 });
  const b = state.backends[1];
  t.deepEqual([b?.requests, b?.active, b?.bytesIn, b?.bytesOut, b?.lastUsed], [1, 0, 10, 20, 2]);
});

test("a backend that answers a client is up again, even between probes", (t) => {
  const state = run([
    { type: "probe-failed", backend: 0, reason: "refused", at: 100 },
    { type: "connected", backend: 0, at: 150 },
  ]);
  t.true(state.backends[0]?.up);
  t.is(state.backends[0]?.pastDowntimeMs, 50);
});

test("events for an unknown backend leave the state as it was", (t) => {
  const before = initialHealth(backends);
  t.is(reduceHealth(before, { type: "probe-ok", backend: 9, at: 1 }), before);
});

test("transitions: down once per outage, a failure line every time, up with the downtime", (t) => {
  const s0 = initialHealth(backends);
  const e1: HealthEvent = { type: "connect-failed", backend: 0, reason: "refused", at: 100 };
  const s1 = reduceHealth(s0, e1);
  t.deepEqual(
    transitionsOf(s0, e1).map((e) => e.type),
    ["connect-failed", "backend-down"],
  );
  const e2: HealthEvent = { type: "probe-failed", backend: 0, reason: "refused", at: 200 };
  const s2 = reduceHealth(s1, e2);
  t.deepEqual(
    transitionsOf(s1, e2).map((e) => e.type),
    ["probe-failed"],
  );
  const e3: HealthEvent = { type: "probe-ok", backend: 0, at: 400 };
  const up = transitionsOf(s2, e3);
  t.deepEqual(up, [{ type: "backend-up", backend: backends[0], downtimeMs: 300, at: 400 }]);
  const e4: HealthEvent = { type: "no-backend", at: 500 };
  t.deepEqual(transitionsOf(s2, e4), [{ type: "no-backend", at: 500 }]);
});

test("a traffic tally adds many connections' counters in one step and never changes health", (t) => {
  const down = run([{ type: "probe-failed", backend: 0, reason: "refused", at: 1 }]);
  const state = reduceHealth(down, {
    type: "traffic",
    accepted: 3,
    backends: [
      { backend: 1, connected: 3, closed: 2, bytesIn: 30, bytesOut: 300, lastUsed: 7 },
      { backend: 0, connected: 0, closed: 0, bytesIn: 0, bytesOut: 0, lastUsed: null },
    ],
    at: 9,
  });
  t.deepEqual(state.totals, { accepted: 3, refused: 0, active: 1 });
  const b = state.backends[1];
  t.deepEqual([b?.requests, b?.active, b?.bytesIn, b?.bytesOut, b?.lastUsed], [3, 1, 30, 300, 7]);
  t.false(state.backends[0]?.up);
  t.is(state.backends[0]?.lastUsed, 1);
});

test("upSince marks the rising edge: set at start and on recovery, cleared while down", (t) => {
  t.deepEqual(
    initialHealth(backends, 50).backends.map((b) => b.upSince),
    [50, 50],
  );
  const down = run([{ type: "connect-failed", backend: 0, reason: "refused", at: 100 }]);
  t.is(down.backends[0]?.upSince, null);
  t.is(down.backends[1]?.upSince, 0);
  const back = reduceHealth(down, { type: "probe-ok", backend: 0, at: 400 });
  t.is(back.backends[0]?.upSince, 400);
  t.is(back.backends[0]?.downSince, null);
  // Staying up keeps the edge where it was.
  t.is(reduceHealth(back, { type: "probe-ok", backend: 0, at: 900 }).backends[0]?.upSince, 400);
});

test("clients refused for a local reason count as refused; no backend changes, nothing to announce", (t) => {
  const before = initialHealth(backends);
  const event: HealthEvent = { type: "refused-locally", count: 3, reason: "EMFILE", at: 100 };
  const after = reduceHealth(before, event);
  t.is(after.totals.refused, 3);
  t.is(after.backends, before.backends);
  t.deepEqual(transitionsOf(before, event), []);
});

test("lastCheck: null until the first check, then each check's verdict, latency and reason", (t) => {
  const start = initialHealth(backends);
  t.deepEqual(
    start.backends.map((b) => b.lastCheck),
    [null, null],
  );
  const failedCheck = reduceHealth(start, {
    type: "probe-failed",
    backend: 0,
    reason: "refused",
    latencyMs: 0.5,
    at: 10,
  });
  t.deepEqual(failedCheck.backends[0]?.lastCheck, {
    ok: false,
    at: 10,
    latencyMs: 0.5,
    reason: "refused",
  });
  t.is(failedCheck.backends[1]?.lastCheck, null);
  // Pure: the state it started from is as it was.
  t.is(start.backends[0]?.lastCheck, null);

  const passedCheck = reduceHealth(failedCheck, {
    type: "probe-ok",
    backend: 0,
    latencyMs: 12,
    at: 20,
  });
  t.deepEqual(passedCheck.backends[0]?.lastCheck, {
    ok: true,
    at: 20,
    latencyMs: 12,
    reason: null,
  });
  t.true(passedCheck.backends[0]?.up);

  // A check that did not say how long it took: latency unknown (null), not the last one's.
  const unmeasured = reduceHealth(passedCheck, { type: "probe-ok", backend: 0, at: 30 });
  t.deepEqual(unmeasured.backends[0]?.lastCheck, {
    ok: true,
    at: 30,
    latencyMs: null,
    reason: null,
  });
});

test("lastCheck follows checks only: clients' connects and failures leave it as it was", (t) => {
  const checked = run([{ type: "probe-ok", backend: 1, latencyMs: 3, at: 5 }]);
  const clients: ReadonlyArray<HealthEvent> = [
    { type: "connected", backend: 1, at: 6 },
    { type: "closed", backend: 1, bytesIn: 1, bytesOut: 1, at: 7 },
    { type: "connect-failed", backend: 1, reason: "refused", at: 8 },
    {
      type: "traffic",
      accepted: 1,
      backends: [{ backend: 1, connected: 1, closed: 1, bytesIn: 1, bytesOut: 1, lastUsed: 9 }],
      at: 9,
    },
  ];
  const used = clients.reduce(reduceHealth, checked);
  t.false(used.backends[1]?.up);
  t.deepEqual(used.backends[1]?.lastCheck, { ok: true, at: 5, latencyMs: 3, reason: null });
});

test("lastCheck of a backend in maint: a check that lands is kept, the hold still keeps it out", (t) => {
  const held = run([
    { type: "admin", backend: 0, action: "maint", at: 1 },
    { type: "probe-failed", backend: 0, reason: "refused", latencyMs: 2, at: 2 },
    { type: "probe-ok", backend: 0, latencyMs: 4, at: 3 },
  ]);
  t.is(held.backends[0]?.admin, "maint");
  t.false(held.backends[0]?.up);
  t.deepEqual(held.backends[0]?.lastCheck, { ok: true, at: 3, latencyMs: 4, reason: null });
  const enabled = reduceHealth(held, { type: "admin", backend: 0, action: "enable", at: 4 });
  t.true(enabled.backends[0]?.up);
  t.deepEqual(enabled.backends[0]?.lastCheck, held.backends[0]?.lastCheck);
});
