import * as E from "fp-ts/lib/Either.js";
import { parseDuration } from "./duration.js";

/** When new clients go back to a recovered primary. */
export type FailbackMode =
  | { readonly kind: "immediate" }
  | { readonly kind: "delay"; readonly holdMs: number }
  /** A share of new clients that grows from 0 to all of them over `durationMs`. */
  | { readonly kind: "ramp"; readonly durationMs: number }
  | { readonly kind: "manual" };

export const IMMEDIATE: FailbackMode = { kind: "immediate" };

/** A positive duration after `prefix` ("delay:", "ramp:"), or what is wrong with it. */
const positiveDurationAfter = (
  text: string,
  prefix: string,
  what: string,
): E.Either<string, number> =>
  E.chain((ms: number) => (ms > 0 ? E.right(ms) : E.left(`${what} must be above zero`)))(
    parseDuration(text.slice(prefix.length)),
  );

/** "immediate", "delay:DURATION", "ramp:DURATION" (both above zero) or "manual". */
export const parseFailback = (text: string): E.Either<string, FailbackMode> => {
  if (text === "immediate") return E.right(IMMEDIATE);
  if (text === "manual") return E.right({ kind: "manual" });
  if (text.startsWith("delay:"))
    return E.map((holdMs: number): FailbackMode => ({ kind: "delay", holdMs }))(
      positiveDurationAfter(text, "delay:", "the delay"),
    );
  if (text.startsWith("ramp:"))
    return E.map((durationMs: number): FailbackMode => ({ kind: "ramp", durationMs }))(
      positiveDurationAfter(text, "ramp:", "the ramp's duration"),
    );
  return E.left("expected immediate, delay:DURATION, ramp:DURATION or manual");
};
