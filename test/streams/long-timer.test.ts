import test from "ava";
import { asyncScheduler, timer } from "rxjs";
import { MAX_TIMER_DELAY_MS } from "../../src/domain/timer-limit.js";
import { longInterval, longTimer } from "../../src/streams/long-timer.js";
import { testScheduler } from "../helpers/marbles.js";
import { recordingScheduler } from "../helpers/recording-scheduler.js";

const H600 = 600 * 3_600_000;

test("a 600h timer emits at exactly 600h and completes", (t) => {
  testScheduler(t).run(({ expectObservable }) => {
    expectObservable(longTimer(H600)).toBe(`${H600}ms (a|)`, { a: 0 });
  });
});

test("a 600h period ticks at 0, 600h, 1200h", (t) => {
  testScheduler(t).run(({ expectObservable }) => {
    expectObservable(longTimer(0, H600), `${2 * H600 + 1}ms !`).toBe(
      `a ${H600 - 1}ms b ${H600 - 1}ms c`,
      { a: 0, b: 1, c: 2 },
    );
  });
});

test("a 600h interval ticks at 600h and 1200h", (t) => {
  testScheduler(t).run(({ expectObservable }) => {
    expectObservable(longInterval(H600), `${2 * H600 + 1}ms !`).toBe(
      `${H600}ms a ${H600 - 1}ms b`,
      { a: 0, b: 1 },
    );
  });
});

test("no single scheduled wait is longer than a timer holds", (t) => {
  const { scheduler, delays } = recordingScheduler(asyncScheduler);
  testScheduler(t).run(({ expectObservable }) => {
    const due = 2 * MAX_TIMER_DELAY_MS + 5;
    expectObservable(longTimer(due, H600, scheduler), `${due + H600 + 1}ms !`).toBe(
      `${due}ms a ${H600 - 1}ms b`,
      { a: 0, b: 1 },
    );
  });
  t.deepEqual(delays.slice(0, 3), [MAX_TIMER_DELAY_MS, MAX_TIMER_DELAY_MS, 5]);
  t.true(delays.every((delay) => delay <= MAX_TIMER_DELAY_MS));
});

test("periods a timer holds are scheduled as they are, like rxjs", (t) => {
  const { scheduler, delays } = recordingScheduler(asyncScheduler);
  testScheduler(t).run(({ expectObservable }) => {
    expectObservable(longTimer(0, 10, scheduler), "25ms !").toBe("a 9ms b 9ms c", {
      a: 0,
      b: 1,
      c: 2,
    });
  });
  t.deepEqual(delays, [0, 10, 10, 10]);
});

test("unsubscribing between two waits of a long timer stops it", (t) => {
  const { scheduler, delays } = recordingScheduler(asyncScheduler);
  testScheduler(t).run(({ expectObservable }) => {
    expectObservable(longTimer(H600, undefined, scheduler), `${MAX_TIMER_DELAY_MS + 1}ms !`).toBe(
      "",
    );
  });
  t.deepEqual(delays, [MAX_TIMER_DELAY_MS, H600 - MAX_TIMER_DELAY_MS]);
});

test("the recorder sees rxjs timer's own overlong reschedule (so the checks above can fail)", (t) => {
  const { scheduler, delays } = recordingScheduler(asyncScheduler);
  testScheduler(t).run(({ expectObservable }) => {
    expectObservable(timer(0, H600, scheduler), "1ms !").toBe("a", { a: 0 });
  });
  t.deepEqual(delays, [0, H600]);
});
