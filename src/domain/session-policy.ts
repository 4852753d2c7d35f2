import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import type { Backend } from "./backend.js";
import { formatDuration, parseDuration } from "./duration.js";
import { describe } from "./option-codecs.js";

/**
 * What happens to a backend's live connections when it is marked down: `keep` lets them run
 * (the peer may still answer), `close` ends them so clients reconnect through the proxy.
 */
export type OnDown = "keep" | "close";

/**
 * What happens to connections still on a fallback when new clients go back to an earlier
 * backend: kept, closed at once, or closed `drainMs` after the failback.
 */
export type OnFailback =
  | { readonly kind: "keep" }
  | { readonly kind: "close" }
  | { readonly kind: "drain"; readonly drainMs: number };

export const KEEP_ON_FAILBACK: OnFailback = { kind: "keep" };

/** "keep" or "close". */
export const parseOnDown = (text: string): E.Either<string, OnDown> =>
  text === "keep" || text === "close"
    ? E.right(text)
    : E.left(`expected keep or close, got ${describe(text)}`);

/** "keep", "close" or "drain:DURATION" (above zero). */
export const parseOnFailback = (text: string): E.Either<string, OnFailback> => {
  if (text === "keep" || text === "close") return E.right({ kind: text });
  if (text.startsWith("drain:")) {
    return E.chain((ms: number) =>
      ms > 0
        ? E.right<string, OnFailback>({ kind: "drain", drainMs: ms })
        : E.left(`the drain time must be above zero, got ${describe(text)}`),
    )(parseDuration(text.slice("drain:".length)));
  }
  return E.left(`expected keep, close or drain:DURATION, got ${describe(text)}`);
};

/** The mode as written on the command line. */
export const formatOnFailback = (mode: OnFailback): string =>
  mode.kind === "drain" ? `drain:${formatDuration(mode.drainMs)}` : mode.kind;

/** An order to close every relayed connection of a backend, and why. */
export type SessionClosing =
  | { readonly backend: Backend; readonly reason: "marked down" }
  /** New clients went back to `to`, earlier in the list than `backend`. */
  | { readonly backend: Backend; readonly reason: "failback"; readonly to: Backend };

// ----- as options

/** A string option read by `parse`; any other value is named in the problem. */
const modeCodec = <A>(
  name: string,
  is: (u: unknown) => u is A,
  parse: (text: string) => E.Either<string, A>,
  encode: (mode: A) => string,
  expected: string,
): t.Type<A, string, unknown> =>
  new t.Type<A, string, unknown>(
    name,
    is,
    (u, c) =>
      typeof u !== "string"
        ? t.failure(u, c, `expected ${expected}, got ${describe(u)}`)
        : pipe(
            parse(u),
            E.fold(
              (message) => t.failure(u, c, message),
              (mode) => t.success(mode),
            ),
          ),
    encode,
  );

/** The onDown option: "keep" or "close". */
export const OnDownOption = modeCodec<OnDown>(
  "OnDown",
  (u): u is OnDown => u === "keep" || u === "close",
  parseOnDown,
  (mode) => mode,
  '"keep" or "close"',
);

/** The onFailback option: "keep", "close" or "drain:DURATION". */
export const OnFailbackOption = modeCodec<OnFailback>(
  "OnFailback",
  (u): u is OnFailback => typeof u === "object" && u !== null && "kind" in u,
  parseOnFailback,
  formatOnFailback,
  '"keep", "close" or "drain:DURATION"',
);
