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
        { host: "db1", port: 3306 },
        { host: "::1", port: 3307 },
      ],
      backendLabels: ["db1:3306", "[::1]:3307"],
      connectTimeoutMs: 5000,
      probeDelayMs: 30000,
      statsIntervalMs: 900000,
      drainTimeoutMs: 10000,
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
