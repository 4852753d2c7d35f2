/**
 * Durations written and printed exactly like Go's time.ParseDuration and
 * Duration.String, so existing command lines and log lines stay valid.
 * Values are milliseconds (possibly fractional); the arithmetic is done in
 * integer nanoseconds with BigInt to reproduce Go's int64 limits.
 */
import * as E from "fp-ts/lib/Either.js";

const NS_PER_MS = 1_000_000n;

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ["ns", 1n],
  ["us", 1_000n],
  ["µs", 1_000n], // U+00B5 micro sign
  ["μs", 1_000n], // U+03BC Greek small letter mu
  ["ms", 1_000_000n],
  ["s", 1_000_000_000n],
  ["m", 60_000_000_000n],
  ["h", 3_600_000_000_000n],
]);

// Go accumulates into a uint64 and accepts at most 1<<63 (only when negated).
const LIMIT = 1n << 63n;

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

/** Reads leading decimal digits; `undefined` on overflow, as Go's leadingInt. */
const leadingInt = (s: string, from: number): { value: bigint; end: number } | undefined => {
  let value = 0n;
  let i = from;
  for (; isDigit(s[i]); i++) {
    value = value * 10n + BigInt(s.charCodeAt(i) - 48);
    if (value > LIMIT) return undefined;
  }
  return { value, end: i };
};

/** Reads fraction digits; digits past int64 precision are dropped, as Go's leadingFraction. */
const leadingFraction = (
  s: string,
  from: number,
): { value: bigint; scale: number; end: number } => {
  let value = 0n;
  let scale = 1;
  let overflow = false;
  let i = from;
  for (; isDigit(s[i]); i++) {
    if (overflow) continue;
    const next = value * 10n + BigInt(s.charCodeAt(i) - 48);
    if (next > LIMIT) {
      overflow = true;
      continue;
    }
    value = next;
    scale *= 10;
  }
  return { value, scale, end: i };
};

const quote = (s: string): string => JSON.stringify(s);

/** Parses a Go duration into integer nanoseconds. */
export const parseDurationNs = (text: string): E.Either<string, bigint> => {
  const invalid = E.left(`invalid duration ${quote(text)}`);
  let i = 0;
  let negative = false;
  if (text[0] === "-" || text[0] === "+") {
    negative = text[0] === "-";
    i = 1;
  }
  // A bare zero needs no unit; every other number does.
  if (text.slice(i) === "0") return E.right(0n);
  if (i === text.length) return invalid;

  let total = 0n;
  while (i < text.length) {
    const c = text[i];
    if (!(c === "." || isDigit(c))) return invalid;

    const whole = leadingInt(text, i);
    if (whole === undefined) return invalid;
    const hasWhole = whole.end !== i;
    i = whole.end;

    let fraction = { value: 0n, scale: 1 };
    let hasFraction = false;
    if (text[i] === ".") {
      const f = leadingFraction(text, i + 1);
      hasFraction = f.end !== i + 1;
      fraction = f;
      i = f.end;
    }
    // e.g. ".s" or "-.s"
    if (!hasWhole && !hasFraction) return invalid;

    const unitStart = i;
    while (i < text.length && !(text[i] === "." || isDigit(text[i]))) i++;
    if (i === unitStart) return E.left(`missing unit in duration ${quote(text)}`);
    const unitName = text.slice(unitStart, i);
    const unit = UNITS.get(unitName);
    if (unit === undefined) {
      return E.left(`unknown unit ${quote(unitName)} in duration ${quote(text)}`);
    }

    if (whole.value > LIMIT / unit) return invalid;
    let v = whole.value * unit;
    if (fraction.value > 0n) {
      // Same float64 arithmetic as Go, so fractional hours round identically.
      v += BigInt(Math.trunc(Number(fraction.value) * (Number(unit) / fraction.scale)));
      if (v > LIMIT) return invalid;
    }
    total += v;
    if (total > LIMIT) return invalid;
  }
  if (negative) return E.right(-total);
  if (total > LIMIT - 1n) return invalid;
  return E.right(total);
};

/**
 * Parses a duration such as "300ms", "1.5h" or "2h45m" into milliseconds.
 * A leading "-" yields a negative value; callers decide whether that is allowed.
 */
export const parseDuration = (text: string): E.Either<string, number> =>
  E.map((ns: bigint) => Number(ns) / 1e6)(parseDurationNs(text));

/** Digits of v / 10^prec after the point, without trailing zeros (Go's fmtFrac). */
const fraction = (v: bigint, prec: number): { text: string; rest: bigint } => {
  let digits = "";
  let print = false;
  let rest = v;
  for (let k = 0; k < prec; k++) {
    const digit = rest % 10n;
    print = print || digit !== 0n;
    if (print) digits = digit.toString() + digits;
    rest /= 10n;
  }
  return { text: print ? `.${digits}` : "", rest };
};

/** Formats nanoseconds like Go's Duration.String. */
export const formatDurationNs = (ns: bigint): string => {
  const negative = ns < 0n;
  const u = negative ? -ns : ns;
  const sign = negative ? "-" : "";
  if (u === 0n) return "0s";
  if (u < 1_000_000_000n) {
    // Below one second Go switches to the largest unit that keeps an integer part.
    const [unit, prec] =
      u < 1_000n
        ? (["ns", 0] as const)
        : u < NS_PER_MS
          ? (["µs", 3] as const)
          : (["ms", 6] as const);
    const f = fraction(u, prec);
    return `${sign}${f.rest.toString()}${f.text}${unit}`;
  }
  const f = fraction(u, 9);
  const seconds = f.rest % 60n;
  const minutesTotal = f.rest / 60n;
  const secondsPart = `${seconds.toString()}${f.text}s`;
  if (minutesTotal === 0n) return `${sign}${secondsPart}`;
  const minutes = minutesTotal % 60n;
  // Stops at hours: days vary in length.
  const hours = minutesTotal / 60n;
  const minutesPart = `${minutes.toString()}m${secondsPart}`;
  if (hours === 0n) return `${sign}${minutesPart}`;
  return `${sign}${hours.toString()}h${minutesPart}`;
};

/**
 * Formats milliseconds like Go's Duration.String: "0s", "300ms", "1.5s", "2h45m0s", "1µs".
 * Rounds to whole nanoseconds; non-finite input is printed as-is instead of throwing.
 */
export const formatDuration = (ms: number): string =>
  Number.isFinite(ms) ? formatDurationNs(BigInt(Math.round(ms * 1e6))) : String(ms);
