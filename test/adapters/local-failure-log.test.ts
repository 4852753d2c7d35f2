import test from "ava";
import { LocalFailureLog } from "../../src/adapters/local-failure-log.js";
import { testScheduler } from "../helpers/marbles.js";
import { warningsAt } from "../helpers/warnings-at.js";

const emfile = "too many open files in this process (EMFILE)";

test("a storm of local failures: one warning at once, then a count per second, then quiet", (t) => {
  const scheduler = testScheduler(t);
  const { logger, lines } = warningsAt(() => scheduler.now());
  const log = new LocalFailureLog(logger, scheduler);
  // 250 failures over 2.5 s (one at each full second comes before the count), then a lone
  // one after quiet seconds.
  for (let ms = 0; ms < 2_500; ms += 10)
    scheduler.schedule(() => log.record("db:5432", emfile), ms);
  scheduler.schedule(() => log.record("db:5432", "out of memory (ENOMEM)"), 5_000);
  // run() flushes without a frame limit.
  scheduler.run(() => undefined);
  t.deepEqual(lines, [
    `0 Cannot dial backend db:5432: ${emfile}, a local limit: client closed, backend health unchanged`,
    `1000 Cannot dial backends: 100 more client(s) closed for a local reason, the last: ${emfile}`,
    `2000 Cannot dial backends: 100 more client(s) closed for a local reason, the last: ${emfile}`,
    `3000 Cannot dial backends: 49 more client(s) closed for a local reason, the last: ${emfile}`,
    "5000 Cannot dial backend db:5432: out of memory (ENOMEM), a local limit: client closed, backend health unchanged",
  ]);
});

test("flush reports the failures not yet counted, at once, and leaves nothing scheduled", (t) => {
  const scheduler = testScheduler(t);
  const { logger, lines } = warningsAt(() => scheduler.now());
  const log = new LocalFailureLog(logger, scheduler);
  scheduler.schedule(() => log.record("db:5432", emfile), 0);
  scheduler.schedule(() => log.record("db:5432", emfile), 100);
  scheduler.schedule(() => log.flush(), 200);
  scheduler.run(() => undefined);
  t.deepEqual(lines, [
    `0 Cannot dial backend db:5432: ${emfile}, a local limit: client closed, backend health unchanged`,
    `200 Cannot dial backends: 1 more client(s) closed for a local reason, the last: ${emfile}`,
  ]);
  t.is(scheduler.actions.length, 0);
});
