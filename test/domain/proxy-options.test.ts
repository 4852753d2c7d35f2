import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { decodeProxySettings } from "../../src/domain/proxy-options.js";

const errorOf = (input: unknown): string => {
  const result = decodeProxySettings(input);
  return E.isLeft(result) ? result.left : "decoded without error";
};

test("fills in the original program's defaults", (t) => {
  const result = decodeProxySettings({ listen: ":7000", backends: ["db1:3306", "[::1]:3307"] });
  t.deepEqual(result, {
    _tag: "Right",
    right: {
      listen: { host: "", port: 7000 },
      backends: [
        { address: { host: "db1", port: 3306 }, label: "db1:3306" },
        { address: { host: "::1", port: 3307 }, label: "[::1]:3307" },
      ],
      connectTimeoutMs: 5000,
      hedgeMs: undefined,
      probeDelayMs: 30000,
      checkIntervalMs: undefined,
      statsIntervalMs: 900000,
      drainTimeoutMs: 10000,
      onDown: "keep",
      onFailback: { kind: "keep" },
      rise: 1,
      fall: 1,
      check: { kind: "tcp" },
      checkCredentials: { user: undefined, password: undefined, database: undefined },
    },
  });
});

test("durations may be milliseconds or Go duration strings; a port number listens on all interfaces", (t) => {
  const result = decodeProxySettings({
    listen: 7000,
    backends: ["db1:3306"],
    connectTimeout: "1.5s",
    probeDelay: 250,
    statsInterval: "0",
    drainTimeout: "2m",
  });
  t.true(E.isRight(result));
  if (E.isRight(result)) {
    t.deepEqual(result.right.listen, { host: "", port: 7000 });
    t.is(result.right.connectTimeoutMs, 1500);
    t.is(result.right.probeDelayMs, 250);
    t.is(result.right.statsIntervalMs, 0);
    t.is(result.right.drainTimeoutMs, 120000);
  }
});

test("errors name the option and the offending value, one line each", (t) => {
  const message = errorOf({ listen: "nowhere", backends: ["db1:3306", "db2"], probeDelay: "-5s" });
  const lines = message.split("\n");
  t.is(lines.length, 3);
  t.regex(message, /^options\.listen: invalid listen address "nowhere": missing port$/m);
  t.regex(message, /^options\.backends\[1\]: invalid backend address "db2": missing port$/m);
  t.regex(message, /^options\.probeDelay: invalid duration "-5s": must not be negative$/m);
});

test("an empty backend list, a missing listen address and wrong types are reported", (t) => {
  t.regex(
    errorOf({ listen: ":1", backends: [] }),
    /options\.backends: at least one backend is needed/,
  );
  t.regex(
    errorOf({ backends: ["a:1"] }),
    /options\.listen: expected a listen address like "host:port", got undefined/,
  );
  t.regex(
    errorOf({ listen: ":1", backends: ["a:1"], connectTimeout: true }),
    /options\.connectTimeout: .*got true/,
  );
  t.regex(
    errorOf({ listen: ":1", backends: ["a:1"], connectTimeout: 0 }),
    /options\.connectTimeout: must be greater than zero/,
  );
  t.regex(
    errorOf({ listen: ":1", backends: ["a:1"], statsInterval: "5 minutes" }),
    /options\.statsInterval: .*"5 minutes"/,
  );
});

const valid = { listen: ":1", backends: ["a:1"] };
const noop = (): undefined => undefined;

test("no options object at all is one line naming options, not a crash", (t) => {
  const expected = "options: expected an object with listen and backends, got ";
  t.is(errorOf(undefined), `${expected}undefined`);
  t.is(errorOf(null), `${expected}null`);
  t.is(errorOf("127.0.0.1:0"), `${expected}"127.0.0.1:0"`);
  t.is(errorOf([":1", "a:1"]), `${expected}an array`);
});

test("NaN and Infinity durations are named as such, not as null", (t) => {
  const expected = 'expected a finite number of milliseconds or a duration like "5s", got';
  t.is(errorOf({ ...valid, probeDelay: NaN }), `options.probeDelay: ${expected} NaN`);
  t.is(
    errorOf({ ...valid, connectTimeout: Infinity }),
    `options.connectTimeout: ${expected} Infinity`,
  );
  t.is(
    errorOf({ ...valid, statsInterval: -Infinity }),
    `options.statsInterval: ${expected} -Infinity`,
  );
  t.is(errorOf({ ...valid, drainTimeout: "5s" }), "decoded without error");
  t.is(
    errorOf({ ...valid, drainTimeout: -1 }),
    "options.drainTimeout: must not be negative, got -1",
  );
});

test("unknown keys are errors, with a suggestion for near misses", (t) => {
  t.is(
    errorOf({ ...valid, probe_delay: "5s" }),
    "options.probe_delay: unknown option (did you mean probeDelay?)",
  );
  t.is(
    errorOf({ ...valid, ConnectTimeout: "5s" }),
    "options.ConnectTimeout: unknown option (did you mean connectTimeout?)",
  );
  t.is(
    errorOf({ ...valid, "stats-interval": "5s" }),
    "options.stats-interval: unknown option (did you mean statsInterval?)",
  );
  t.is(
    errorOf({ ...valid, probeDelayMs: 5 }),
    "options.probeDelayMs: unknown option (did you mean probeDelay?)",
  );
  t.is(
    errorOf({ ...valid, colour: "blue" }),
    "options.colour: unknown option (known options: listen, backends, connectTimeout, hedge, probeDelay," +
      " checkInterval, statsInterval, drainTimeout, onDown, onFailback, admin, rise, fall, check, checkUser, checkPassword, checkDatabase, checkSend, checkExpect, route, probe," +
      " logger, scheduler, onChange, sendProxy, acceptProxy, maxconn, backendMaxconn, idleTimeout, keepalive, finTimeout)",
  );
  // A misspelt required key: both the key and what is missing.
  t.is(
    errorOf({ listen: ":1", backend: ["a:1"] }),
    [
      'options.backends: expected a non-empty array of backend addresses like "host:port", got undefined',
      "options.backend: unknown option (did you mean backends?)",
    ].join("\n"),
  );
});

test("a logger needs debug, info, warn and error functions; debugEnabled is a boolean when given", (t) => {
  t.is(
    errorOf({ ...valid, logger: 42 }),
    "options.logger: expected a logger with debug, info, warn and error functions, got 42",
  );
  t.is(
    errorOf({ ...valid, logger: {} }),
    "options.logger: expected a logger with debug, info, warn and error functions, got {}",
  );
  t.is(
    errorOf({ ...valid, logger: { debug: noop, info: noop, error: noop } }),
    "options.logger.warn: expected a function, got undefined",
  );
  t.is(
    errorOf({ ...valid, logger: { debug: noop, info: noop, warn: "loud", error: noop } }),
    'options.logger.warn: expected a function, got "loud"',
  );
  t.is(
    errorOf({
      ...valid,
      logger: { debug: noop, info: noop, warn: noop, error: noop, debugEnabled: "yes" },
    }),
    'options.logger.debugEnabled: expected a boolean, got "yes"',
  );
  t.is(
    errorOf({ ...valid, logger: { debug: noop, info: noop, warn: noop, error: noop } }),
    "decoded without error",
  );
});

test("a scheduler needs now and schedule functions", (t) => {
  t.is(
    errorOf({ ...valid, scheduler: "async" }),
    'options.scheduler: expected an RxJS scheduler with now and schedule functions, got "async"',
  );
  t.is(
    errorOf({ ...valid, scheduler: { now: () => 0 } }),
    "options.scheduler.schedule: expected a function, got undefined",
  );
});

test("route and probe must be functions", (t) => {
  t.is(
    errorOf({ ...valid, route: "first" }),
    'options.route: expected a function (health$) => Observable<Route>, got "first"',
  );
  t.is(
    errorOf({ ...valid, probe: { tcp: true } }),
    'options.probe: expected a function (backend) => Observable<ProbeResult>, got {"tcp":true}',
  );
});

test("backends must be an array of address strings; each bad entry names its index", (t) => {
  const expected =
    'options.backends: expected a non-empty array of backend addresses like "host:port"';
  t.is(errorOf({ listen: ":1", backends: "a:1" }), `${expected}, got "a:1"`);
  t.is(errorOf({ listen: ":1", backends: { 0: "a:1" } }), `${expected}, got {"0":"a:1"}`);
  t.is(
    errorOf({ listen: ":1", backends: ["a:1", 5, null] }),
    [
      'options.backends[1]: expected a backend address like "host:port" or an object with an address, got 5',
      'options.backends[2]: expected a backend address like "host:port" or an object with an address, got null',
    ].join("\n"),
  );
});

test("listen is an address string or a port number from 0 to 65535", (t) => {
  const port = "options.listen: expected a port number from 0 to 65535, got";
  t.is(errorOf({ ...valid, listen: 70000 }), `${port} 70000`);
  t.is(errorOf({ ...valid, listen: -1 }), `${port} -1`);
  t.is(errorOf({ ...valid, listen: 1.5 }), `${port} 1.5`);
  t.is(errorOf({ ...valid, listen: NaN }), `${port} NaN`);
  t.is(
    errorOf({ ...valid, listen: true }),
    'options.listen: expected a listen address like "host:port", got true',
  );
  t.is(errorOf({ ...valid, listen: 65535 }), "decoded without error");
});

test("every problem is reported at once, zero durations included", (t) => {
  t.is(
    errorOf({ listen: "nowhere", backends: ["a:1"], connectTimeout: 0, probeDelay: "0s" }),
    [
      'options.listen: invalid listen address "nowhere": missing port',
      "options.connectTimeout: must be greater than zero, got 0",
      'options.probeDelay: must be greater than zero, got "0s"',
    ].join("\n"),
  );
});

test("keys that name Object.prototype members are unknown options, not crashes", (t) => {
  t.regex(
    errorOf({ ...valid, toString: "x" }),
    /^options\.toString: unknown option \(known options: /,
  );
  t.regex(
    errorOf(JSON.parse('{"listen":":1","backends":["a:1"],"__proto__":1}')),
    /^options\.__proto__: unknown option/,
  );
});

test("problems follow the order the options were written, missing required keys first", (t) => {
  t.is(
    errorOf({ probeDelay: "soon", backends: [], logger: 1 }),
    [
      'options.listen: expected a listen address like "host:port", got undefined',
      'options.probeDelay: invalid duration "soon"',
      "options.backends: at least one backend is needed",
      "options.logger: expected a logger with debug, info, warn and error functions, got 1",
    ].join("\n"),
  );
});

test("optional keys may be given as undefined", (t) => {
  t.is(
    errorOf({ ...valid, probeDelay: undefined, logger: undefined, route: undefined }),
    "decoded without error",
  );
});

test("onDown is keep or close; onFailback keep, close or drain:DURATION above zero", (t) => {
  const decoded = decodeProxySettings({ ...valid, onDown: "close", onFailback: "drain:1.5s" });
  t.like(E.isRight(decoded) ? decoded.right : {}, {
    onDown: "close",
    onFailback: { kind: "drain", drainMs: 1500 },
  });
  t.like(E.getOrElseW(() => ({}))(decodeProxySettings({ ...valid, onFailback: "close" })), {
    onFailback: { kind: "close" },
  });
  t.is(errorOf({ ...valid, onDown: "drop" }), 'options.onDown: expected keep or close, got "drop"');
  t.is(errorOf({ ...valid, onDown: true }), 'options.onDown: expected "keep" or "close", got true');
  t.is(
    errorOf({ ...valid, onFailback: "drain" }),
    'options.onFailback: expected keep, close or drain:DURATION, got "drain"',
  );
  t.is(
    errorOf({ ...valid, onFailback: "drain:0s" }),
    'options.onFailback: the drain time must be above zero, got "drain:0s"',
  );
  t.is(
    errorOf({ ...valid, onFailback: "drain:-1s" }),
    'options.onFailback: the drain time must be above zero, got "drain:-1s"',
  );
  t.is(
    errorOf({ ...valid, onFailback: "drain:soon" }),
    'options.onFailback: invalid duration "soon"',
  );
  t.is(
    errorOf({ ...valid, onFailback: { kind: "close" } }),
    'options.onFailback: expected "keep", "close" or "drain:DURATION", got {"kind":"close"}',
  );
  t.is(errorOf({ ...valid, onDown: undefined, onFailback: undefined }), "decoded without error");
});
