import test from "ava";
import { LimitLog } from "../../src/adapters/limit-log.js";
import { makeBackends } from "../../src/domain/backend.js";
import { testScheduler } from "../helpers/marbles.js";
import { warningsAt } from "../helpers/warnings-at.js";

test("a full backend and paused accepting: a line at once each, then a count per second, then quiet", (t) => {
  const scheduler = testScheduler(t);
  const { logger, lines } = warningsAt(() => scheduler.now());
  const log = new LimitLog(logger, scheduler);
  const [db1] = makeBackends([{ host: "db1", port: 5432 }], [], { backendMaxconn: 10 });
  if (db1 === undefined) return t.fail();
  // A client skips db1 every 10 ms for 1.5 s (one at each full second comes before the count);
  // accepting pauses twice; a lone skip much later.
  for (let ms = 0; ms < 1_500; ms += 10) scheduler.schedule(() => log.backendFull(db1), ms);
  scheduler.schedule(() => log.acceptPaused(100), 200);
  scheduler.schedule(() => log.acceptPaused(100), 300);
  scheduler.schedule(() => log.backendFull(db1), 5_000);
  scheduler.run(() => undefined);
  t.deepEqual(lines, [
    "0 Backend db1:5432 is full (maxconn=10): new clients go to the next backend",
    "200 Accepting paused at 100 live connections (-maxconn): new clients wait in the backlog",
    "1000 Backend db1:5432 full: 100 more client(s) went to the next backend",
    "1000 Accepting paused 1 more time(s) at -maxconn=100",
    "2000 Backend db1:5432 full: 49 more client(s) went to the next backend",
    "5000 Backend db1:5432 is full (maxconn=10): new clients go to the next backend",
  ]);
});
