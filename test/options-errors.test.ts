import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { setImmediate as nextTurn } from "node:timers/promises";
import { type SchedulerLike, Subscription } from "rxjs";
import {
  type FallbackProxyOptions,
  InvalidOptionsError,
  createFallbackProxy,
  decodeProxySettings,
} from "../src/index.js";

// Serial: each test counts the process's listening sockets and timers around one call.

/** A scheduler that records what would have been scheduled, and runs nothing. */
const spyScheduler = (): SchedulerLike & { scheduled: number } => {
  const spy = {
    scheduled: 0,
    now: () => 0,
    schedule: () => {
      spy.scheduled += 1;
      return new Subscription();
    },
  };
  return spy;
};

/** A logger that records every line. */
const spyLogger = () => {
  const lines: string[] = [];
  const record = (message: string): void => void lines.push(message);
  return { lines, debug: record, info: record, warn: record, error: record, debugEnabled: true };
};

const serversAndTimers = (): string =>
  process
    .getActiveResourcesInfo()
    .filter((name) => name === "TCPServerWrap" || name === "Timeout")
    .sort()
    .join(",");

const noop = (): undefined => undefined;

/** Bad options beside a spy logger and scheduler (unless those are the subject). */
const cases: ReadonlyArray<readonly [string, (spies: Spies) => unknown, string]> = [
  [
    "no options",
    () => undefined,
    "options: expected an object with listen and backends, got undefined",
  ],
  ["null options", () => null, "options: expected an object with listen and backends, got null"],
  [
    "logger: 42",
    ({ scheduler }) => ({ listen: "127.0.0.1:0", backends: ["a:1"], scheduler, logger: 42 }),
    "options.logger: expected a logger with debug, info, warn and error functions, got 42",
  ],
  [
    "a logger without warn",
    ({ scheduler }) => ({
      listen: "127.0.0.1:0",
      backends: ["a:1"],
      scheduler,
      logger: { debug: noop, info: noop, error: noop, debugEnabled: false },
    }),
    "options.logger.warn: expected a function, got undefined",
  ],
  [
    'scheduler: "async"',
    ({ logger }) => ({ listen: "127.0.0.1:0", backends: ["a:1"], logger, scheduler: "async" }),
    'options.scheduler: expected an RxJS scheduler with now and schedule functions, got "async"',
  ],
  [
    "a scheduler without schedule",
    ({ logger }) => ({
      listen: "127.0.0.1:0",
      backends: ["a:1"],
      logger,
      scheduler: { now: Date.now },
    }),
    "options.scheduler.schedule: expected a function, got undefined",
  ],
  [
    "probeDelay: NaN",
    (spies) => ({ listen: "127.0.0.1:0", backends: ["a:1"], ...spies, probeDelay: NaN }),
    'options.probeDelay: expected a finite number of milliseconds or a duration like "5s", got NaN',
  ],
  [
    "an unknown key (probe_delay)",
    (spies) => ({ listen: "127.0.0.1:0", backends: ["a:1"], ...spies, probe_delay: "1s" }),
    "options.probe_delay: unknown option (did you mean probeDelay?)",
  ],
  [
    "backends: a string",
    (spies) => ({ listen: "127.0.0.1:0", backends: "a:1", ...spies }),
    'options.backends: expected a non-empty array of backend addresses like "host:port", got "a:1"',
  ],
  [
    "a backend that is not a string",
    (spies) => ({ listen: "127.0.0.1:0", backends: ["a:1", 7001], ...spies }),
    'options.backends[1]: expected a backend address like "host:port" or an object with an address, got 7001',
  ],
  [
    "listen: 70000",
    (spies) => ({ listen: 70000, backends: ["a:1"], ...spies }),
    "options.listen: expected a port number from 0 to 65535, got 70000",
  ],
  [
    "probe: not a function",
    (spies) => ({ listen: "127.0.0.1:0", backends: ["a:1"], ...spies, probe: "tcp" }),
    'options.probe: expected a function (backend) => Observable<ProbeResult>, got "tcp"',
  ],
];

interface Spies {
  readonly logger: ReturnType<typeof spyLogger>;
  readonly scheduler: ReturnType<typeof spyScheduler>;
}

for (const [title, optionsWith, expected] of cases) {
  test.serial(
    `${title}: InvalidOptionsError before anything starts, as decodeProxySettings says`,
    async (t) => {
      const spies = { logger: spyLogger(), scheduler: spyScheduler() };
      const options = optionsWith(spies);
      const before = serversAndTimers();
      const error = t.throws(() => createFallbackProxy(options as FallbackProxyOptions), {
        instanceOf: InvalidOptionsError,
      });
      t.is(error?.message, expected);
      const decoded = decodeProxySettings(options);
      t.deepEqual(decoded, E.left(expected));
      // Nothing was started: no line logged, nothing scheduled, no socket or timer left behind.
      t.deepEqual(spies.logger.lines, []);
      t.is(spies.scheduler.scheduled, 0);
      await nextTurn();
      t.is(serversAndTimers(), before);
    },
  );
}

test.serial(
  "a route policy that returns an array: InvalidOptionsError before anything starts",
  async (t) => {
    const spies = { logger: spyLogger(), scheduler: spyScheduler() };
    const before = serversAndTimers();
    const error = t.throws(
      () =>
        createFallbackProxy({
          listen: "127.0.0.1:0",
          backends: ["a:1"],
          ...spies,
          route: (() => []) as unknown as FallbackProxyOptions["route"],
        }),
      { instanceOf: InvalidOptionsError },
    );
    t.is(
      error?.message,
      "options.route: a policy must return an Observable of routes, got an array",
    );
    t.deepEqual(spies.logger.lines, []);
    t.is(spies.scheduler.scheduled, 0);
    await nextTurn();
    t.is(serversAndTimers(), before);
  },
);
