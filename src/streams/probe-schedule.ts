import {
  type Observable,
  type SchedulerLike,
  asyncScheduler,
  map,
  mergeMap,
  withLatestFrom,
  from,
  finalize,
  EMPTY,
  distinctUntilChanged,
  merge,
  skip,
} from "rxjs";
import type { Backend } from "../domain/backend.js";
import type { Probe } from "../domain/probe.js";
import { type HealthState, type ProbeEvent, downBackends, ranked } from "../domain/health.js";
import { longTimer } from "./long-timer.js";

/** Backends in maintenance are not checked: an operator took them out. */
const checked = (backends: ReadonlyArray<Backend>, state: HealthState): ReadonlyArray<Backend> =>
  backends.filter((b) => state.backends[b.index]?.admin !== "maint");

const listed = (state: HealthState): ReadonlyArray<Backend> => ranked(state).map((b) => b.backend);

/**
 * Which backends to probe on each tick: all of them at start, then every `probeDelayMs`
 * only those that are down (healthy backends are not probed); or, with `checkIntervalMs`, all
 * of them at start and every `checkIntervalMs`. A reload that changes the list has every
 * listed backend checked at once: added ones need a verdict, changed ones a new one.
 */
export const probeTargets = (
  health$: Observable<HealthState>,
  probeDelayMs: number,
  scheduler: SchedulerLike = asyncScheduler,
  checkIntervalMs?: number,
): Observable<ReadonlyArray<Backend>> => {
  const ticks =
    checkIntervalMs === undefined
      ? longTimer(0, probeDelayMs, scheduler).pipe(
          withLatestFrom(health$),
          map(([tick, state]) => checked(tick === 0 ? listed(state) : downBackends(state), state)),
        )
      : // With a check interval every backend is checked, up ones too, and probe-delay is unused.
        longTimer(0, checkIntervalMs, scheduler).pipe(
          withLatestFrom(health$),
          map(([, state]) => checked(listed(state), state)),
        );
  const reloads = health$.pipe(
    distinctUntilChanged((a, b) => a.order === b.order),
    skip(1),
    map((state) => checked(listed(state), state)),
  );
  return merge(ticks, reloads);
};

/**
 * Runs the probes for each tick and turns their results into health events. A backend whose
 * previous probe has not answered yet is skipped, so slow probes never pile up.
 */
export const probeEvents = (
  targets$: Observable<ReadonlyArray<Backend>>,
  probe: Probe,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<ProbeEvent> => {
  const inFlight = new Set<number>();
  return targets$.pipe(
    mergeMap((backends) => from(backends.filter((b) => !inFlight.has(b.index)))),
    mergeMap((backend) => {
      inFlight.add(backend.index);
      return from(probe(backend)).pipe(
        map((result): ProbeEvent => {
          // The latency only when the check measured it: unknown is left out, never a guess.
          const latency = result.latencyMs === undefined ? {} : { latencyMs: result.latencyMs };
          return result.ok
            ? { type: "probe-ok", backend: backend.index, ...latency, at: scheduler.now() }
            : {
                type: "probe-failed",
                backend: backend.index,
                reason: result.reason,
                ...latency,
                at: scheduler.now(),
              };
        }),
        finalize(() => inFlight.delete(backend.index)),
      );
    }),
  );
};

export const noProbes: Probe = () => EMPTY;
