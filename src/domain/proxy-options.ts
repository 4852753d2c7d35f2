import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import { type AddressRole, parseAddress } from "./address.js";
import type { Address } from "./backend.js";
import { defaults } from "./defaults.js";
import { parseDuration } from "./duration.js";

// ----- codecs: the edge where untyped options become checked values

const describe = (u: unknown): string =>
  typeof u === "string" ? `"${u}"` : (JSON.stringify(u) ?? String(u));

/** A duration as milliseconds (a number) or as a Go duration string ("300ms", "1.5h"). */
export const DurationMs = new t.Type<number, number | string, unknown>(
  "Duration",
  (u): u is number => typeof u === "number" && Number.isFinite(u) && u >= 0,
  (u, c) => {
    if (typeof u === "number") {
      return Number.isFinite(u) && u >= 0
        ? t.success(u)
        : t.failure(u, c, `must be a non-negative number of milliseconds, got ${describe(u)}`);
    }
    if (typeof u !== "string") {
      return t.failure(u, c, `expected milliseconds or a duration like "5s", got ${describe(u)}`);
    }
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
  },
  (ms) => ms,
);

const addressCodec = (role: AddressRole): t.Type<Address, string, unknown> =>
  new t.Type<Address, string, unknown>(
    `${role} address`,
    (u): u is Address => typeof u === "object" && u !== null && "host" in u && "port" in u,
    (u, c) => {
      const text = typeof u === "number" && role === "listen" ? `:${u}` : u;
      if (typeof text !== "string") {
        return t.failure(u, c, `expected a ${role} address like "host:port", got ${describe(u)}`);
      }
      return pipe(
        parseAddress(text, role),
        E.fold(
          (message) => t.failure(u, c, message),
          (address) => t.success(address),
        ),
      );
    },
    (a) => `${a.host}:${a.port}`,
  );

export const ListenAddress = addressCodec("listen");
export const BackendAddress = addressCodec("backend");

const NonEmptyBackends = new t.Type<ReadonlyArray<Address>, ReadonlyArray<string>, unknown>(
  "backends",
  (u): u is ReadonlyArray<Address> => Array.isArray(u) && u.length > 0,
  (u, c) =>
    Array.isArray(u) && u.length === 0
      ? t.failure(u, c, "at least one backend is needed")
      : t.readonlyArray(BackendAddress).validate(u, c),
  (a) => a.map((address) => BackendAddress.encode(address)),
);

const ProxyOptionsData = t.intersection([
  t.type({ listen: ListenAddress, backends: NonEmptyBackends }),
  t.partial({
    connectTimeout: DurationMs,
    probeDelay: DurationMs,
    statsInterval: DurationMs,
    drainTimeout: DurationMs,
  }),
]);

// ----- model

/** Proxy settings after decoding, with defaults filled in (the original program's defaults). */
export interface ProxySettings {
  readonly listen: Address;
  /** At least one, in priority order. */
  readonly backends: ReadonlyArray<Address>;
  /** Labels as the user wrote the backends, for logs. */
  readonly backendLabels: ReadonlyArray<string>;
  readonly connectTimeoutMs: number;
  readonly probeDelayMs: number;
  /** 0 turns periodic stats off. */
  readonly statsIntervalMs: number;
  readonly drainTimeoutMs: number;
}

// ----- decoding

const pathOf = (context: t.Context): string =>
  context
    .map((entry) => entry.key)
    // io-ts repeats keys inside intersections and numbers their members: keep real keys only.
    .filter((key, i, keys) => key !== "" && !(i > 0 && /^\d+$/.test(key) && keys[i - 1] === ""))
    .map((key) => (/^\d+$/.test(key) ? `[${key}]` : `.${key}`))
    .join("");

/** One readable line per problem, naming the option and the offending value. */
export const reportErrors = (errors: t.Errors): ReadonlyArray<string> => {
  const lines = errors.map((error) => {
    const where = `options${pathOf(error.context)}`;
    const message =
      error.message ??
      `expected ${error.context.at(-1)?.type.name ?? "a value"}, got ${describe(error.value)}`;
    return `${where}: ${message}`;
  });
  return [...new Set(lines)];
};

/** Decodes library options; on failure, a readable message with one line per problem. */
export const decodeProxySettings = (input: unknown): E.Either<string, ProxySettings> =>
  pipe(
    ProxyOptionsData.decode(input),
    E.mapLeft((errors) => reportErrors(errors).join("\n")),
    E.chain((data): E.Either<string, ProxySettings> => {
      const positive = (name: string, ms: number): E.Either<string, number> =>
        ms > 0 ? E.right(ms) : E.left(`options.${name}: must be greater than zero`);
      const raw = input as { backends: ReadonlyArray<unknown> };
      return pipe(
        E.Do,
        E.apS(
          "connectTimeoutMs",
          positive("connectTimeout", data.connectTimeout ?? defaults.connectTimeoutMs),
        ),
        E.apS("probeDelayMs", positive("probeDelay", data.probeDelay ?? defaults.probeDelayMs)),
        E.map(({ connectTimeoutMs, probeDelayMs }) => ({
          listen: data.listen,
          backends: data.backends,
          backendLabels: raw.backends.map(String),
          connectTimeoutMs,
          probeDelayMs,
          statsIntervalMs: data.statsInterval ?? defaults.statsIntervalMs,
          drainTimeoutMs: data.drainTimeout ?? defaults.drainTimeoutMs,
        })),
      );
    }),
  );
