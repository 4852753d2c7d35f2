import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { parseFailback } from "../../src/domain/failback.js";

test("ramp:DURATION is a ramp of that many milliseconds", (t) => {
  t.deepEqual(parseFailback("ramp:60s"), E.right({ kind: "ramp", durationMs: 60_000 }));
  t.deepEqual(parseFailback("ramp:1.5m"), E.right({ kind: "ramp", durationMs: 90_000 }));
});

test("a ramp must last longer than zero and be a duration", (t) => {
  t.deepEqual(parseFailback("ramp:-1s"), E.left("the ramp's duration must be above zero"));
  t.deepEqual(parseFailback("ramp:0"), E.left("the ramp's duration must be above zero"));
  t.deepEqual(parseFailback("ramp:abc"), E.left('invalid duration "abc"'));
  t.deepEqual(parseFailback("ramp:"), E.left('invalid duration ""'));
  t.deepEqual(
    parseFailback("ramp"),
    E.left("expected immediate, delay:DURATION, ramp:DURATION or manual"),
  );
});

test("the other modes read as before", (t) => {
  t.deepEqual(parseFailback("immediate"), E.right({ kind: "immediate" }));
  t.deepEqual(parseFailback("manual"), E.right({ kind: "manual" }));
  t.deepEqual(parseFailback("delay:30s"), E.right({ kind: "delay", holdMs: 30_000 }));
  t.deepEqual(parseFailback("delay:0s"), E.left("the delay must be above zero"));
});
