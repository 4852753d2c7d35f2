import test from "ava";
import { setImmediate as nextTurn } from "node:timers/promises";
import type { HealthEvent } from "../../src/domain/health.js";
import { TrafficTally } from "../../src/adapters/traffic-tally.js";

const tallyInto = (events: HealthEvent[], up: ReadonlySet<number>) =>
  new TrafficTally(
    (event) => events.push(event),
    () => 100,
    (backend) => up.has(backend),
  );

test("counters are summed and handed on once per turn of the event loop", async (t) => {
  const events: HealthEvent[] = [];
  const tally = tallyInto(events, new Set([0]));
  tally.emit({ type: "accepted", at: 1 });
  tally.emit({ type: "connected", backend: 0, at: 2 });
  tally.emit({ type: "accepted", at: 3 });
  tally.emit({ type: "connected", backend: 0, at: 4 });
  tally.emit({ type: "closed", backend: 0, bytesIn: 5, bytesOut: 6, at: 5 });
  t.deepEqual(events, []);
  await nextTurn();
  t.deepEqual(events, [
    {
      type: "traffic",
      accepted: 2,
      backends: [{ backend: 0, connected: 2, closed: 1, bytesIn: 5, bytesOut: 6, lastUsed: 4 }],
      at: 100,
    },
  ]);
});

test("what may change health goes on at once, after the counters that came before it", (t) => {
  const events: HealthEvent[] = [];
  const tally = tallyInto(events, new Set([1]));
  tally.emit({ type: "accepted", at: 1 });
  tally.emit({ type: "connect-failed", backend: 1, reason: "refused", at: 2 });
  // Backend 0 is down: a connect to it is news (it is back), not a counter.
  tally.emit({ type: "connected", backend: 0, at: 3 });
  t.deepEqual(
    events.map((e) => e.type),
    ["traffic", "connect-failed", "connected"],
  );
});

test("flush hands on what was counted, and nothing when there is nothing", (t) => {
  const events: HealthEvent[] = [];
  const tally = tallyInto(events, new Set([0]));
  tally.flush();
  t.is(events.length, 0);
  tally.emit({ type: "accepted", at: 1 });
  tally.flush();
  t.is(events.length, 1);
  t.is(events[0]?.type, "traffic");
});

test("clients refused for a local reason are summed per turn too, and change no backend", async (t) => {
  const events: HealthEvent[] = [];
  const tally = tallyInto(events, new Set([0]));
  const emfile = "too many open files in this process (EMFILE)";
  for (let at = 1; at <= 3; at++) {
    tally.emit({ type: "accepted", at });
    tally.emit({ type: "refused-locally", count: 1, reason: emfile, at });
  }
  t.deepEqual(events, []);
  await nextTurn();
  t.deepEqual(events, [
    { type: "traffic", accepted: 3, backends: [], at: 100 },
    { type: "refused-locally", count: 3, reason: emfile, at: 100 },
  ]);
});

test("what the limits did is summed per reason and backend, once per turn", async (t) => {
  const events: HealthEvent[] = [];
  const tally = tallyInto(events, new Set([0]));
  for (let i = 0; i < 3; i++)
    tally.emit({ type: "limited", reason: "idle-timeout", backend: 0, count: 1, at: i });
  tally.emit({ type: "limited", reason: "backend-full", backend: 1, count: 1, at: 4 });
  tally.emit({ type: "limited", reason: "backend-full", backend: 1, count: 1, at: 5 });
  tally.emit({ type: "limited", reason: "accept-paused", count: 1, at: 6 });
  t.deepEqual(events, []);
  await nextTurn();
  t.deepEqual(events, [
    { type: "limited", reason: "idle-timeout", backend: 0, count: 3, at: 100 },
    { type: "limited", reason: "backend-full", backend: 1, count: 2, at: 100 },
    { type: "limited", reason: "accept-paused", count: 1, at: 100 },
  ]);
});
