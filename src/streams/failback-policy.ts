import type { Observable } from "rxjs";
import type { FailbackMode } from "../domain/failback.js";
import type { RoutePolicy } from "../domain/route-policy.js";
import { delayedFailback } from "./delayed-failback.js";
import { manualFailback } from "./manual-failback.js";
import { rampFailback } from "./ramp-failback.js";
import { firstHealthy } from "./route-policies.js";

/** The route policy for a failback mode; `failback$` is what moves clients back in manual mode. */
export const failbackPolicy = (mode: FailbackMode, failback$: Observable<unknown>): RoutePolicy => {
  switch (mode.kind) {
    case "immediate":
      return firstHealthy;
    case "delay":
      return delayedFailback(mode.holdMs);
    case "ramp":
      return rampFailback(mode.durationMs);
    case "manual":
      return manualFailback(failback$);
  }
};
