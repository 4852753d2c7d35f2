import type { Backend } from "./backend.js";
import { type LastCheck, type ProbeEvent, lastCheckOf } from "./health.js";

/** One check's verdict as it arrives: which backend, pass or fail, how long, why not, when. */
export interface CheckResult extends LastCheck {
  readonly backend: Backend;
}

export const checkResultOf = (backend: Backend, event: ProbeEvent): CheckResult => ({
  backend,
  ...lastCheckOf(event),
});
