import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import {
  BackendList,
  InvalidOptionsError,
  LoggerCodec,
  PositiveDurationMs,
  describe,
  optionsDecoder,
  unknownKeyProblems,
} from "../../src/domain/option-codecs.js";
import { decodeProxySettings, proxyOptionCodecs } from "../../src/domain/proxy-options.js";

const noop = (): undefined => undefined;

test("a decoder for another key set reuses the codecs and gives the same lines", (t) => {
  const { backends, probe, logger, probeDelay } = proxyOptionCodecs;
  // Another order of keys than the proxy's: lines follow the order the options were written.
  const decode = optionsDecoder({ backends }, { logger, probe, probeDelay });
  const bad = { backends: ["a:1", 5], probeDelay: NaN, logger: 42 };
  const lines = E.isLeft(decode(bad)) ? (decode(bad) as E.Left<ReadonlyArray<string>>).left : [];
  const proxyLines = decodeProxySettings({ listen: ":1", ...bad });
  t.deepEqual(lines, E.isLeft(proxyLines) ? proxyLines.left.split("\n") : []);
  t.deepEqual(
    decode({ backends: ["a:1"], listen: ":1" }),
    E.left(["options.listen: unknown option (known options: backends, logger, probe, probeDelay)"]),
  );
  t.deepEqual(
    decode(undefined),
    E.left(["options: expected an object with backends, got undefined"]),
  );
  t.deepEqual(
    decode({ backends: ["a:1"], probeDelay: "1s" }),
    E.right({
      backends: [{ address: { host: "a", port: 1 }, label: "a:1" }],
      probeDelay: 1000,
    }),
  );
});

test("unknown keys: the same key in another spelling, a typo, several near keys, or the list", (t) => {
  const known = ["connectTimeout", "drainTimeout", "backends"];
  t.deepEqual(unknownKeyProblems({ connect_timeout: 1, backends: [] }, known), [
    "options.connect_timeout: unknown option (did you mean connectTimeout?)",
  ]);
  t.deepEqual(unknownKeyProblems({ XTimeout: 1 }, known, "config"), [
    "config.XTimeout: unknown option (known options: connectTimeout, drainTimeout, backends)",
  ]);
  t.deepEqual(unknownKeyProblems({ ab: 1 }, ["a", "b"]), [
    "options.ab: unknown option (known options: a, b)",
  ]);
  t.deepEqual(unknownKeyProblems({ abcd: 1 }, ["abce", "abcf"]), [
    "options.abcd: unknown option (did you mean abce or abcf?)",
  ]);
});

test("a logger with debugEnabled is used as given, so a getter stays live", (t) => {
  let level = "info";
  const given = {
    debug: noop,
    info: noop,
    warn: noop,
    error: noop,
    get debugEnabled() {
      return level === "debug";
    },
  };
  const decoded = LoggerCodec.decode(given);
  t.true(E.isRight(decoded) && decoded.right === given);
  level = "debug";
  t.true(E.isRight(decoded) && decoded.right.debugEnabled);
});

test("a logger without debugEnabled gets debug lines, called on the logger itself", (t) => {
  const lines: string[] = [];
  const given = {
    prefix: ">",
    debug(message: string) {
      lines.push(`${this.prefix} ${message}`);
    },
    info: noop,
    warn: noop,
    error: noop,
  };
  const decoded = LoggerCodec.decode(given);
  if (E.isLeft(decoded)) return t.fail("did not decode");
  t.true(decoded.right.debugEnabled);
  decoded.right.debug("hello");
  t.deepEqual(lines, ["> hello"]);
});

test("codecs on their own: zero durations, backend lists, values that cannot be printed as JSON", (t) => {
  t.true(E.isLeft(PositiveDurationMs.decode("0")));
  t.deepEqual(PositiveDurationMs.decode("1.5s"), E.right(1500));
  t.true(E.isLeft(BackendList.decode([])));
  const cycle: Record<string, unknown> = {};
  cycle["self"] = cycle;
  t.is(describe(cycle), "an object");
  t.is(describe(10n), "10n");
  t.is(describe(noop), "a function");
  t.is(describe({ long: "x".repeat(100) }), "an object");
});

test("InvalidOptionsError keeps its problems as lines", (t) => {
  const error = new InvalidOptionsError(["options.a: one", "options.b: two"]);
  t.is(error.name, "InvalidOptionsError");
  t.is(error.message, "options.a: one\noptions.b: two");
  t.deepEqual(error.problems, ["options.a: one", "options.b: two"]);
  t.true(error instanceof Error);
  t.deepEqual(new InvalidOptionsError("options.a: one\noptions.b: two").problems, error.problems);
});
