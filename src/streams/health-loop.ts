import {
  type Observable,
  type SchedulerLike,
  Subject,
  asyncScheduler,
  defer,
  ignoreElements,
  map,
  merge,
  shareReplay,
  startWith,
  tap,
} from "rxjs";
import type { Backend } from "../domain/backend.js";
import { defaults } from "../domain/defaults.js";
import type { HealthEvent, ProbeEvent } from "../domain/health.js";
import { boundedProbe } from "./bounded-probe.js";
import { type HealthStep, healthSteps, initialStep } from "./health-steps.js";
import type { Probe } from "../domain/probe.js";
import { probeEvents, probeTargets } from "./probe-schedule.js";

export interface HealthLoopOptions {
  readonly backends: ReadonlyArray<Backend>;
  /** Outcomes of real client connections (accepted, connected, connect-failed, closed...). */
  readonly connectionEvents$: Observable<HealthEvent>;
  readonly probe: Probe;
  readonly probeDelayMs: number;
  /** Check every backend, up ones too, this often (probeDelayMs is then unused). Default: off. */
  readonly checkIntervalMs?: number | undefined;
  /** A probe that has not answered by then is a failed check. Default: the connect timeout's default. */
  readonly probeTimeoutMs?: number;
  readonly scheduler?: SchedulerLike;
  /** Hears each check's verdict once the health state has taken it in. */
  readonly onCheck?: ((event: ProbeEvent) => void) | undefined;
}

/**
 * The control loop: connection events and probe results fold into one stream of health steps,
 * and the probe schedule reads that same stream to know which backends are down.
 * Emits the initial step on subscription, then one step per event.
 */
export const healthLoop = ({
  backends,
  connectionEvents$,
  probe,
  probeDelayMs,
  checkIntervalMs,
  probeTimeoutMs = defaults.connectTimeoutMs,
  scheduler = asyncScheduler,
  onCheck,
}: HealthLoopOptions): Observable<HealthStep> =>
  defer(() => {
    const probeResults = new Subject<HealthEvent>();
    const steps$ = merge(connectionEvents$, probeResults).pipe(
      healthSteps(backends, scheduler.now()),
      startWith(initialStep(backends, scheduler.now())),
      shareReplay({ bufferSize: 1, refCount: true }),
    );
    const probing$ = probeEvents(
      probeTargets(
        steps$.pipe(map((step) => step.state)),
        probeDelayMs,
        scheduler,
        checkIntervalMs,
      ),
      boundedProbe(probe, probeTimeoutMs, scheduler),
      scheduler,
    ).pipe(
      tap((event) => {
        probeResults.next(event);
        onCheck?.(event);
      }),
      ignoreElements(),
    );
    return merge(steps$, probing$);
  });
