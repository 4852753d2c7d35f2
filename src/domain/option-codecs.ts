/**
 * Building blocks for decoding a library's options object: codecs for durations, addresses,
 * functions, loggers and schedulers, a check for unknown keys, and `optionsDecoder`, which
 * combines them for one key set. Every problem becomes one line naming the option's path
 * ("options.backends[1]: ...") and the offending value.
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import type { SchedulerLike } from "rxjs";
import { type AddressRole, parseAddress } from "./address.js";
import type { Address, BackendSpec } from "./backend.js";
import { type CheckSpec, parseCheck } from "./check.js";
import { parseDuration } from "./duration.js";
import type { Logger } from "./logger.js";
import type { ProxyProtocolVersion } from "./proxy-protocol.js";

/** Thrown for options that do not decode; `problems` holds one line per problem. */
export class InvalidOptionsError extends Error {
  override readonly name = "InvalidOptionsError";
  readonly problems: ReadonlyArray<string>;
  /** One line per problem (a string is split at newlines, as 1.0 took a message). */
  constructor(problems: ReadonlyArray<string> | string) {
    const lines = typeof problems === "string" ? problems.split("\n") : problems;
    super(lines.join("\n"));
    this.problems = lines;
  }
}

// ----- describing values in messages

const MAX_SHOWN = 60;

/** A short, safe rendering of any value: NaN stays NaN, cycles and functions do not throw. */
export const describe = (u: unknown): string => {
  if (typeof u === "string") return JSON.stringify(u);
  if (typeof u === "function") return "a function";
  if (typeof u === "bigint") return `${u}n`;
  if (typeof u !== "object" || u === null) return String(u);
  if (Array.isArray(u)) return "an array";
  try {
    const json = JSON.stringify(u);
    return json.length <= MAX_SHOWN ? json : "an object";
  } catch {
    return "an object";
  }
};

/** "a", "a and b", "a, b and c". */
const listed = (words: ReadonlyArray<string>): string =>
  words.length <= 1 ? words.join("") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;

const isObjectLike = (u: unknown): u is Record<string, unknown> =>
  (typeof u === "object" || typeof u === "function") && u !== null;

// ----- durations

const DURATION_EXPECTED = 'expected a finite number of milliseconds or a duration like "5s"';

const nonNegativeMs = (u: unknown, c: t.Context): t.Validation<number> => {
  if (typeof u === "number") {
    if (!Number.isFinite(u)) return t.failure(u, c, `${DURATION_EXPECTED}, got ${describe(u)}`);
    return u >= 0 ? t.success(u) : t.failure(u, c, `must not be negative, got ${describe(u)}`);
  }
  if (typeof u !== "string") return t.failure(u, c, `${DURATION_EXPECTED}, got ${describe(u)}`);
  return pipe(
    parseDuration(u),
    E.chain((ms) =>
      ms < 0 ? E.left(`invalid duration ${describe(u)}: must not be negative`) : E.right(ms),
    ),
    E.fold(
      (message) => t.failure(u, c, message),
      (ms) => t.success(ms),
    ),
  );
};

/** A duration of zero or more: milliseconds (a finite number) or a Go duration ("300ms", "1.5h"). */
export const DurationMs = new t.Type<number, number | string, unknown>(
  "Duration",
  (u): u is number => typeof u === "number" && Number.isFinite(u) && u >= 0,
  nonNegativeMs,
  (ms) => ms,
);

/** A duration greater than zero, for intervals and timeouts that 0 would break. */
export const PositiveDurationMs = new t.Type<number, number | string, unknown>(
  "PositiveDuration",
  (u): u is number => DurationMs.is(u) && u > 0,
  (u, c) =>
    pipe(
      nonNegativeMs(u, c),
      E.chain((ms) =>
        ms > 0 ? t.success(ms) : t.failure(u, c, `must be greater than zero, got ${describe(u)}`),
      ),
    ),
  (ms) => ms,
);

/** A whole number of at least 1 (counts such as rise and fall, worker counts). */
export const PositiveInteger: t.Type<number, number, unknown> = new t.Type<number, number, unknown>(
  "PositiveInteger",
  (u): u is number => typeof u === "number" && Number.isSafeInteger(u) && u >= 1,
  (u, c) =>
    PositiveInteger.is(u)
      ? t.success(u)
      : t.failure(u, c, `expected an integer >= 1, got ${describe(u)}`),
  (n) => n,
);

// ----- addresses

const fromParse = <A>(u: unknown, c: t.Context, parsed: E.Either<string, A>): t.Validation<A> =>
  pipe(
    parsed,
    E.fold(
      (message) => t.failure(u, c, message),
      (value) => t.success(value),
    ),
  );

const isAddress = (u: unknown): u is Address =>
  isObjectLike(u) && typeof u["host"] === "string" && typeof u["port"] === "number";

const encodeAddress = (a: Address): string => `${a.host}:${a.port}`;

/** "host:port", "[v6]:port", ":port", or a port number 0-65535 (all interfaces). */
export const ListenAddress = new t.Type<Address, string, unknown>(
  "listen address",
  isAddress,
  (u, c) => {
    if (typeof u === "number") {
      return Number.isInteger(u) && u >= 0 && u <= 65535
        ? t.success({ host: "", port: u })
        : t.failure(u, c, `expected a port number from 0 to 65535, got ${describe(u)}`);
    }
    return typeof u === "string"
      ? fromParse(u, c, parseAddress(u, "listen"))
      : t.failure(u, c, `expected a listen address like "host:port", got ${describe(u)}`);
  },
  encodeAddress,
);

const addressString = (role: AddressRole): t.Type<Address, string, unknown> =>
  new t.Type<Address, string, unknown>(
    `${role} address`,
    isAddress,
    (u, c) =>
      typeof u === "string"
        ? fromParse(u, c, parseAddress(u, role))
        : t.failure(u, c, `expected a ${role} address like "host:port", got ${describe(u)}`),
    encodeAddress,
  );

/** "host:port" or "[v6]:port"; ":port" is the local host. */
export const BackendAddress = addressString("backend");

// ----- checks and backends

const isCheckSpec = (u: unknown): u is CheckSpec =>
  isObjectLike(u) && typeof u["kind"] === "string";

/**
 * A check as the command line writes it ("redis-primary", "http:/health", "send-expect"), or
 * such a spec as an object (`{ kind: "send-expect", send: "PING\r\n", expect: "^\\+PONG" }`).
 */
export const CheckCodec = new t.Type<CheckSpec, string | CheckSpec, unknown>(
  "check",
  isCheckSpec,
  (u, c) => {
    if (typeof u === "string") return fromParse(u, c, parseCheck(u));
    if (!isObjectLike(u) || typeof u["kind"] !== "string")
      return t.failure(
        u,
        c,
        `expected a check such as "tcp" or "redis-primary", got ${describe(u)}`,
      );
    if (u["kind"] === "send-expect") {
      const { send = "", expect } = u;
      if (typeof send !== "string" || typeof expect !== "string")
        return t.failure(
          u,
          c,
          `a send-expect check needs "send" and "expect" strings, got ${describe(u)}`,
        );
      return t.success({ kind: "send-expect", send, expect });
    }
    if (u["kind"] === "http") {
      return typeof u["path"] === "string"
        ? fromParse(u, c, parseCheck(`http:${u["path"]}`))
        : t.failure(u, c, `an http check needs a "path", got ${describe(u)}`);
    }
    return fromParse(u, c, parseCheck(u["kind"]));
  },
  (check) => check,
);

/** A PROXY protocol version to send: "v1" (text) or "v2" (binary). */
export const SendProxyVersion = new t.Type<ProxyProtocolVersion, string, unknown>(
  "PROXY protocol version",
  (u): u is ProxyProtocolVersion => u === "v1" || u === "v2",
  (u, c) =>
    u === "v1" || u === "v2"
      ? t.success(u)
      : t.failure(u, c, `expected v1 or v2, got ${describe(u)}`),
  (version) => version,
);

const BACKEND_KEYS = ["address", "name", "check", "rise", "fall", "sendProxy", "maxconn"];

const isBackendSpec = (u: unknown): u is BackendSpec =>
  isObjectLike(u) && isAddress(u["address"]) && typeof u["label"] === "string";

/**
 * A backend: its address ("host:port", "[v6]:port"), or an object with the address and its own
 * settings (`{ address: "db2:5432", name: "db2", check: "pgsql-primary", rise: 3 }`).
 */
export const BackendEntry = new t.Type<BackendSpec, string | object, unknown>(
  "backend",
  isBackendSpec,
  (u, c) => {
    if (typeof u === "string")
      return pipe(
        BackendAddress.validate(u, c),
        E.map((address): BackendSpec => ({ address, label: u })),
      );
    if (!isObjectLike(u) || Array.isArray(u) || !Object.hasOwn(u, "address"))
      return t.failure(
        u,
        c,
        `expected a backend address like "host:port" or an object with an address, got ${describe(u)}`,
      );
    const unknown = Object.keys(u).filter((key) => !BACKEND_KEYS.includes(key));
    if (unknown.length > 0) {
      const [key] = unknown as [string];
      return t.failure(
        u[key],
        t.appendContext(c, key, t.unknown, u[key]),
        unknownOption(key, BACKEND_KEYS, "").slice(key.length + 3),
      );
    }
    // Every field's problems at once, each named by its path.
    const required = t.type({ address: BackendAddress }).validate(u, c);
    const optional = t
      .partial({
        name: NonEmptyText,
        check: CheckCodec,
        rise: PositiveInteger,
        fall: PositiveInteger,
        sendProxy: SendProxyVersion,
        maxconn: PositiveInteger,
      })
      .validate(u, c);
    if (E.isLeft(required) || E.isLeft(optional))
      return t.failures([
        ...(E.isLeft(required) ? required.left : []),
        ...(E.isLeft(optional) ? optional.left : []),
      ]);
    const { name, check, rise, fall, sendProxy, maxconn } = optional.right;
    return t.success({
      address: required.right.address,
      label: u["address"] as string,
      ...(name === undefined ? {} : { name }),
      ...(check === undefined ? {} : { check }),
      ...(rise === undefined ? {} : { rise }),
      ...(fall === undefined ? {} : { fall }),
      ...(sendProxy === undefined ? {} : { sendProxy }),
      ...(maxconn === undefined ? {} : { maxconn }),
    });
  },
  (spec) => ({ ...spec, address: encodeAddress(spec.address) }),
);

/** A string with at least one character (names, users). */
export const NonEmptyText: t.Type<string, string, unknown> = new t.Type<string, string, unknown>(
  "NonEmptyText",
  (u): u is string => typeof u === "string" && u !== "",
  (u, c) =>
    NonEmptyText.is(u)
      ? t.success(u)
      : t.failure(u, c, `expected a non-empty string, got ${describe(u)}`),
  (s) => s,
);

/** At least one backend, in priority order; each bad entry is named by its index. */
export const BackendList = new t.Type<
  ReadonlyArray<BackendSpec>,
  ReadonlyArray<string | object>,
  unknown
>(
  "backends",
  (u): u is ReadonlyArray<BackendSpec> =>
    Array.isArray(u) && u.length > 0 && u.every(isBackendSpec),
  (u, c) => {
    if (!Array.isArray(u)) {
      return t.failure(
        u,
        c,
        `expected a non-empty array of backend addresses like "host:port", got ${describe(u)}`,
      );
    }
    if (u.length === 0) return t.failure(u, c, "at least one backend is needed");
    return t.readonlyArray(BackendEntry).validate(u, c);
  },
  (a) => a.map((spec) => BackendEntry.encode(spec)),
);

// ----- code: functions, loggers, schedulers

/** A function value, checked for being a function only; `shape` tells the reader what to pass. */
export const functionCodec = <F extends (...args: never[]) => unknown>(
  shape: string,
): t.Type<F, F, unknown> =>
  new t.Type<F, F, unknown>(
    shape,
    (u): u is F => typeof u === "function",
    (u, c) =>
      typeof u === "function"
        ? t.success(u as F)
        : t.failure(u, c, `expected a function ${shape}, got ${describe(u)}`),
    (f) => f,
  );

/**
 * Checks an object's methods: nothing like it at all is one line for the whole value; an
 * object with some of them names each missing one by its path.
 */
const withMethods = <A>(
  u: unknown,
  c: t.Context,
  methods: ReadonlyArray<string>,
  expected: string,
): t.Validation<A> => {
  const present = isObjectLike(u) ? methods.filter((m) => typeof u[m] === "function") : [];
  if (!isObjectLike(u) || present.length === 0) {
    return t.failure(u, c, `${expected}, got ${describe(u)}`);
  }
  const missing = methods.filter((m) => !present.includes(m));
  if (missing.length === 0) return t.success(u as A);
  return t.failures(
    missing.map((m) => ({
      value: u[m],
      context: [...c, { key: m, type: t.Function, actual: u[m] }],
      message: `expected a function, got ${describe(u[m])}`,
    })),
  );
};

const LOGGER_METHODS = ["debug", "info", "warn", "error"] as const;

/** What a program may pass as a logger: `debugEnabled` may be left out (console works). */
export type LoggerOption = Omit<Logger, "debugEnabled"> & { readonly debugEnabled?: boolean };

/**
 * A logger with debug, info, warn and error functions. Without `debugEnabled` it decodes to
 * a logger whose debugEnabled is true: every debug line is built and handed to `debug()`,
 * which decides. Methods are called on the given object, so class-based loggers keep `this`.
 */
export const LoggerCodec = new t.Type<Logger, LoggerOption, unknown>(
  "logger",
  (u): u is Logger =>
    isObjectLike(u) &&
    LOGGER_METHODS.every((m) => typeof u[m] === "function") &&
    typeof u["debugEnabled"] === "boolean",
  (u, c) =>
    pipe(
      withMethods<LoggerOption>(
        u,
        c,
        LOGGER_METHODS,
        `expected a logger with ${listed(LOGGER_METHODS)} functions`,
      ),
      E.chain((logger): t.Validation<Logger> => {
        const flag: unknown = logger.debugEnabled;
        if (typeof flag === "boolean") return t.success(logger as Logger);
        if (flag !== undefined) {
          return t.failure(
            flag,
            t.appendContext(c, "debugEnabled", t.boolean, flag),
            `expected a boolean, got ${describe(flag)}`,
          );
        }
        return t.success({
          debug: (message) => logger.debug(message),
          info: (message) => logger.info(message),
          warn: (message) => logger.warn(message),
          error: (message) => logger.error(message),
          debugEnabled: true,
        });
      }),
    ),
  (logger) => logger,
);

/** An RxJS scheduler (anything with `now` and `schedule` functions), e.g. a TestScheduler. */
export const SchedulerCodec = new t.Type<SchedulerLike, SchedulerLike, unknown>(
  "scheduler",
  (u): u is SchedulerLike =>
    isObjectLike(u) && typeof u["now"] === "function" && typeof u["schedule"] === "function",
  (u, c) =>
    withMethods<SchedulerLike>(
      u,
      c,
      ["now", "schedule"],
      "expected an RxJS scheduler with now and schedule functions",
    ),
  (scheduler) => scheduler,
);

// ----- unknown keys

const normalized = (key: string): string => key.toLowerCase().replace(/[_\-\s]/g, "");

/** Edit distance, for "did you mean" on typos. */
const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
};

/**
 * The known keys closest to an unknown one: the same key in another case or with `_`/`-`
 * (probe_delay, ConnectTimeout), or up to two edits away (backend, probeDelayMs).
 */
export const nearKeys = (key: string, known: ReadonlyArray<string>): ReadonlyArray<string> => {
  const scored = known.map((k) => ({ k, d: distance(normalized(key), normalized(k)) }));
  const best = Math.min(...scored.map((s) => s.d));
  return best <= 2 && best < normalized(key).length / 2
    ? scored.filter((s) => s.d === best).map((s) => s.k)
    : [];
};

/** The line for one unknown key, with a suggestion when a known key is near. */
export const unknownOption = (
  key: string,
  known: ReadonlyArray<string>,
  path = "options",
): string => {
  const near = nearKeys(key, known);
  const hint =
    near.length > 0 ? `did you mean ${near.join(" or ")}?` : `known options: ${known.join(", ")}`;
  return `${path}.${key}: unknown option (${hint})`;
};

/** One line per own key of `input` that is not in `known`. */
export const unknownKeyProblems = (
  input: object,
  known: ReadonlyArray<string>,
  path = "options",
): ReadonlyArray<string> =>
  Object.keys(input)
    .filter((key) => !known.includes(key))
    .map((key) => unknownOption(key, known, path));

// ----- reporting

const pathOf = (context: t.Context): string =>
  context
    .map((entry) => entry.key)
    .filter((key) => key !== "")
    .map((key) => (/^\d+$/.test(key) ? `[${key}]` : `.${key}`))
    .join("");

/** One readable line per problem, naming the option's path and the offending value. */
export const reportErrors = (errors: t.Errors, root = "options"): ReadonlyArray<string> => {
  const lines = errors.map((error) => {
    const message =
      error.message ??
      `expected ${error.context.at(-1)?.type.name ?? "a value"}, got ${describe(error.value)}`;
    return `${root}${pathOf(error.context)}: ${message}`;
  });
  return [...new Set(lines)];
};

// ----- whole option objects

/** What an options decoder built from `required` and `optional` codecs yields. */
export type DecodedOptions<R extends t.Props, O extends t.Props> = t.TypeOf<t.TypeC<R>> &
  t.TypeOf<t.PartialC<O>>;

/**
 * A decoder for one options object: `required` keys must decode, `optional` keys may be
 * absent or undefined, and any other key is a problem. Every problem is reported, one line
 * each: missing required keys first, then in the order the keys were given. Build another key set from the same codecs, e.g.
 * `optionsDecoder({ backends: BackendList }, { logger: LoggerCodec })`.
 */
export const optionsDecoder =
  <R extends t.Props, O extends t.Props>(required: R, optional: O) =>
  (input: unknown): E.Either<ReadonlyArray<string>, DecodedOptions<R, O>> => {
    const requiredKeys = Object.keys(required);
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      const shape = requiredKeys.length > 0 ? ` with ${listed(requiredKeys)}` : "";
      return E.left([`options: expected an object${shape}, got ${describe(input)}`]);
    }
    const given = input as Record<string, unknown>;
    // A Map, so keys such as "toString" are not found on a prototype.
    const codecs = new Map<string, t.Mixed>([
      ...Object.entries(required),
      ...Object.entries(optional),
    ]);
    const known = [...codecs.keys()];
    const decoded: Record<string, unknown> = {};
    const problems: string[] = [];
    // Missing required keys first, then the given keys in the order they were written.
    const absent = requiredKeys.filter((key) => !Object.hasOwn(given, key));
    for (const key of [...absent, ...Object.keys(given)]) {
      const codec = codecs.get(key);
      const value = given[key];
      if (codec === undefined) {
        problems.push(unknownOption(key, known));
      } else if (value !== undefined || requiredKeys.includes(key)) {
        const result = codec.validate(value, [{ key, type: codec, actual: value }]);
        if (E.isLeft(result)) problems.push(...reportErrors(result.left));
        else decoded[key] = result.right;
      }
    }
    return problems.length > 0 ? E.left(problems) : E.right(decoded as DecodedOptions<R, O>);
  };
