import test from "ava";
import { EventEmitter, once } from "node:events";
import { MAX_TIMER_DELAY_MS } from "../../src/domain/timer-limit.js";
import { setLongTimeout } from "../../src/adapters/long-timeout.js";

const H600 = 600 * 3_600_000;

interface FakeClock {
  /** Runs every timer due within `ms`, in order, the chained ones included. */
  advance(ms: number): void;
  /** Every delay handed to setTimeout. */
  readonly delays: number[];
  pending(): number;
}

/**
 * Replaces the global setTimeout/clearTimeout with a virtual clock while `body` runs. The body
 * is synchronous, so nothing else in this process sees the fakes.
 */
const withFakeTimers = (body: (clock: FakeClock) => void): void => {
  const real = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout };
  const timers = new Map<number, { at: number; callback: () => void }>();
  const delays: number[] = [];
  let now = 0;
  let nextId = 1;
  globalThis.setTimeout = ((callback: () => void, ms: number) => {
    delays.push(ms);
    timers.set(nextId, { at: now + ms, callback });
    return nextId++;
  }) as unknown as typeof setTimeout;
  globalThis.clearTimeout = ((id: number) => timers.delete(id)) as unknown as typeof clearTimeout;
  const advance = (ms: number): void => {
    const until = now + ms;
    for (;;) {
      const due = [...timers].filter(([, t]) => t.at <= until).sort(([, a], [, b]) => a.at - b.at);
      const first = due[0];
      if (first === undefined) break;
      timers.delete(first[0]);
      now = first[1].at;
      first[1].callback();
    }
    now = until;
  };
  try {
    body({ advance, delays, pending: () => timers.size });
  } finally {
    globalThis.setTimeout = real.setTimeout;
    globalThis.clearTimeout = real.clearTimeout;
  }
};

test("a 600h timeout fires at exactly 600h, in waits no timer overflows on", (t) => {
  withFakeTimers((clock) => {
    let fired = 0;
    setLongTimeout(() => fired++, H600);
    clock.advance(H600 - 1);
    t.is(fired, 0);
    clock.advance(1);
    t.is(fired, 1);
    t.deepEqual(clock.delays, [MAX_TIMER_DELAY_MS, H600 - MAX_TIMER_DELAY_MS]);
    t.is(clock.pending(), 0);
  });
});

test("a delay a timer holds is one plain timer", (t) => {
  withFakeTimers((clock) => {
    let fired = 0;
    setLongTimeout(() => fired++, 10_000);
    clock.advance(10_000);
    t.is(fired, 1);
    t.deepEqual(clock.delays, [10_000]);
  });
});

test("cancelling stops a long timeout before its first wait ends and between two waits", (t) => {
  withFakeTimers((clock) => {
    let fired = 0;
    const cancelEarly = setLongTimeout(() => fired++, H600);
    const cancelLater = setLongTimeout(() => fired++, H600);
    clock.advance(1_000);
    cancelEarly();
    clock.advance(MAX_TIMER_DELAY_MS);
    cancelLater();
    clock.advance(H600);
    t.is(fired, 0);
    t.is(clock.pending(), 0);
  });
});

test("with real timers a short timeout fires, and a cancelled one does not", async (t) => {
  const events = new EventEmitter();
  const cancel = setLongTimeout(() => events.emit("cancelled fired"), 1);
  cancel();
  events.on("cancelled fired", () => t.fail("a cancelled timeout fired"));
  const fired = once(events, "fired");
  setLongTimeout(() => events.emit("fired"), 20);
  await fired;
  t.pass();
});
