import { type Observable, scan } from "rxjs";
import type { Backend } from "../domain/backend.js";
import {
  type HealthEvent,
  type HealthState,
  initialHealth,
  reduceHealth,
} from "../domain/health.js";
import { type ProxyEvent, transitionsOf } from "../domain/proxy-event.js";

/** One reducer step: the state after an event and the transitions it caused. */
export interface HealthStep {
  readonly state: HealthState;
  readonly transitions: ReadonlyArray<ProxyEvent>;
}

/** The state before any event; `at` is when the backends count as up since. */
export const initialStep = (backends: ReadonlyArray<Backend>, at = 0): HealthStep => ({
  state: initialHealth(backends, at),
  transitions: [],
});

export const nextStep = (step: HealthStep, event: HealthEvent): HealthStep => {
  const state = reduceHealth(step.state, event);
  return { state, transitions: transitionsOf(step.state, event) };
};

/** Folds health events into steps; emits one step per event (the initial step is not emitted). */
export const healthSteps =
  (backends: ReadonlyArray<Backend>, at = 0) =>
  (events$: Observable<HealthEvent>): Observable<HealthStep> =>
    events$.pipe(scan(nextStep, initialStep(backends, at)));
