import test from "ava";
import { RefusedHeaderLog } from "../../src/adapters/refused-header-log.js";

/** A scheduler run by hand: `tick()` fires the pending interval. */
const manual = () => {
  let pending: (() => void) | null = null;
  return {
    schedule: (work: () => void) => {
      pending = work;
      return { unsubscribe: () => (pending = null) };
    },
    tick: () => {
      const work = pending;
      pending = null;
      work?.();
    },
    pending: () => pending !== null,
  };
};

const recorder = () => {
  const lines: string[] = [];
  const record = (message: string) => lines.push(message);
  return {
    lines,
    logger: { debug: record, info: record, warn: record, error: record, debugEnabled: false },
  };
};

test("the first refusal is a warning at once, the rest a count per interval, then quiet", (t) => {
  const { lines, logger } = recorder();
  const scheduler = manual();
  const log = new RefusedHeaderLog(logger, scheduler, 1_000);
  log.record("10.0.0.1:1", "bad v2 signature");
  log.record("10.0.0.2:2", 'v1 header: bad source port "70000"');
  log.record("10.0.0.3:3", "no complete header within 5s (0 byte(s) read)");
  t.deepEqual(lines, ["Client 10.0.0.1:1 closed: bad PROXY protocol header: bad v2 signature"]);
  scheduler.tick();
  t.deepEqual(lines.slice(1), [
    "2 more client(s) closed for a bad PROXY protocol header, the last 10.0.0.3:3: no complete header within 5s (0 byte(s) read)",
  ]);
  // A quiet interval ends the counting: the next refusal is a warning of its own again.
  t.true(scheduler.pending());
  scheduler.tick();
  t.false(scheduler.pending());
  log.record("10.0.0.4:4", "bad v2 signature");
  t.is(lines.at(-1), "Client 10.0.0.4:4 closed: bad PROXY protocol header: bad v2 signature");
  log.record("10.0.0.5:5", "x");
  log.flush();
  t.is(
    lines.at(-1),
    "1 more client(s) closed for a bad PROXY protocol header, the last 10.0.0.5:5: x",
  );
  t.false(scheduler.pending());
  t.is(lines.length, 4);
});
