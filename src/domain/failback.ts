import * as E from "fp-ts/lib/Either.js";
import { parseDuration } from "./duration.js";

/** When new clients go back to a recovered primary. */
export type FailbackMode =
  | { readonly kind: "immediate" }
  | { readonly kind: "delay"; readonly holdMs: number }
  | { readonly kind: "manual" };

export const IMMEDIATE: FailbackMode = { kind: "immediate" };

/** "immediate", "delay:DURATION" (above zero) or "manual". */
export const parseFailback = (text: string): E.Either<string, FailbackMode> => {
  if (text === "immediate") return E.right(IMMEDIATE);
  if (text === "manual") return E.right({ kind: "manual" });
  if (text.startsWith("delay:")) {
    return E.chain((ms: number) =>
      ms > 0
        ? E.right<string, FailbackMode>({ kind: "delay", holdMs: ms })
        : E.left("the delay must be above zero"),
    )(parseDuration(text.slice("delay:".length)));
  }
  return E.left("expected immediate, delay:DURATION or manual");
};
