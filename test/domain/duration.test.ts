import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { formatDuration, parseDuration } from "../../src/domain/duration.js";

const accepted: ReadonlyArray<readonly [string, number]> = [
  ["0", 0],
  ["+0", 0],
  ["-0", 0],
  ["0s", 0],
  ["1ns", 0.000001],
  ["100ns", 0.0001],
  ["1us", 0.001],
  ["1µs", 0.001], // micro sign
  ["1μs", 0.001], // Greek mu
  ["300ms", 300],
  ["5s", 5_000],
  ["2m", 120_000],
  ["1h", 3_600_000],
  ["1.5h", 5_400_000],
  ["1.5s", 1_500],
  [".5s", 500],
  ["1.s", 1_000],
  ["0.25ms", 0.25],
  ["2h45m", 9_900_000],
  ["15m0s", 900_000],
  ["1h2m3.5s", 3_723_500],
  ["1s500ms", 1_500],
  ["1.5h30m", 7_200_000],
  ["+5s", 5_000],
  ["-5s", -5_000],
  ["-1.5h", -5_400_000],
  ["007s", 7_000],
  // Digits past int64 precision in a fraction are ignored, not an error.
  ["1.0000000000000000000000001s", 1_000],
  ["9223372036854775807ns", Number(9223372036854775807n) / 1e6],
  ["-9223372036854775808ns", Number(-9223372036854775808n) / 1e6],
];

test("parseDuration accepts every Go duration form", (t) => {
  for (const [text, ms] of accepted) {
    const parsed = parseDuration(text);
    t.deepEqual(parsed, E.right(ms), text);
  }
});

test("parseDuration result is fractional milliseconds", (t) => {
  const parsed = parseDuration("1us");
  t.true(E.isRight(parsed) && parsed.right === 0.001);
});

const rejected: ReadonlyArray<readonly [string, string]> = [
  ["", 'invalid duration ""'],
  ["-", 'invalid duration "-"'],
  ["+", 'invalid duration "+"'],
  ["5", 'missing unit in duration "5"'],
  ["-5", 'missing unit in duration "-5"'],
  ["1.5", 'missing unit in duration "1.5"'],
  ["00", 'missing unit in duration "00"'],
  ["1s2", 'missing unit in duration "1s2"'],
  ["5x", 'unknown unit "x" in duration "5x"'],
  ["5S", 'unknown unit "S" in duration "5S"'],
  ["5sec", 'unknown unit "sec" in duration "5sec"'],
  ["1d", 'unknown unit "d" in duration "1d"'],
  ["5 s", 'unknown unit " s" in duration "5 s"'],
  ["5s ", 'unknown unit "s " in duration "5s "'],
  [" 5s", 'invalid duration " 5s"'],
  ["s", 'invalid duration "s"'],
  [".s", 'invalid duration ".s"'],
  ["-.s", 'invalid duration "-.s"'],
  ["--5s", 'invalid duration "--5s"'],
  ["1..5s", 'missing unit in duration "1..5s"'],
  ["5s-3s", 'unknown unit "s-" in duration "5s-3s"'],
  ["9223372036854775808ns", 'invalid duration "9223372036854775808ns"'],
  ["2562048h", 'invalid duration "2562048h"'],
  ["99999999999999999999s", 'invalid duration "99999999999999999999s"'],
  ["2562047h47m16.854775808s", 'invalid duration "2562047h47m16.854775808s"'],
];

test("parseDuration rejects malformed text with a message naming the value", (t) => {
  for (const [text, message] of rejected) {
    t.deepEqual(parseDuration(text), E.left(message), text);
  }
});

test("formatDuration matches Go's Duration.String", (t) => {
  const cases: ReadonlyArray<readonly [number, string]> = [
    [0, "0s"],
    [-0, "0s"],
    [0.0000001, "0s"], // below half a nanosecond rounds to zero
    [0.000001, "1ns"],
    [0.0001, "100ns"],
    [0.000999, "999ns"],
    [0.001, "1µs"],
    [0.0015, "1.5µs"],
    [0.999999, "999.999µs"],
    [1, "1ms"],
    [300, "300ms"],
    [1.5, "1.5ms"],
    [999, "999ms"],
    [1_000, "1s"],
    [1_500, "1.5s"],
    [1_234.567891, "1.234567891s"],
    [59_000, "59s"],
    [60_000, "1m0s"],
    [900_000, "15m0s"],
    [90_500, "1m30.5s"],
    [3_600_000, "1h0m0s"],
    [9_900_000, "2h45m0s"],
    [3_723_500, "1h2m3.5s"],
    [100 * 3_600_000, "100h0m0s"],
    [-1_500, "-1.5s"],
    [-0.001, "-1µs"],
    [-9_900_000, "-2h45m0s"],
  ];
  for (const [ms, text] of cases) {
    t.is(formatDuration(ms), text, String(ms));
  }
});

test("formatDuration does not throw on non-finite input", (t) => {
  t.is(formatDuration(Number.NaN), "NaN");
  t.is(formatDuration(Number.POSITIVE_INFINITY), "Infinity");
  t.is(formatDuration(Number.NEGATIVE_INFINITY), "-Infinity");
});

test("formatDuration output parses back to the same value", (t) => {
  for (const ms of [0, 0.000001, 0.0015, 1.5, 300, 1_500, 90_500, 9_900_000, -3_723_500]) {
    t.deepEqual(parseDuration(formatDuration(ms)), E.right(ms), String(ms));
  }
});
