import { type Observable, scan } from "rxjs";
import type { Backend } from "../domain/backend.js";
import { type HealthEvent, type HealthStep, initialHealth, stepHealth } from "../domain/health.js";

export type { HealthStep };

/** The state before any event; `at` is when the backends count as up since. */
export const initialStep = (backends: ReadonlyArray<Backend>, at = 0): HealthStep => ({
  state: initialHealth(backends, at),
  transitions: [],
});

export const nextStep = (step: HealthStep, event: HealthEvent): HealthStep =>
  stepHealth(step.state, event);

/** Folds health events into steps; emits one step per event (the initial step is not emitted). */
export const healthSteps =
  (backends: ReadonlyArray<Backend>, at = 0) =>
  (events$: Observable<HealthEvent>): Observable<HealthStep> =>
    events$.pipe(scan(nextStep, initialStep(backends, at)));
