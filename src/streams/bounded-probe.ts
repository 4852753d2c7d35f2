import { type SchedulerLike, asyncScheduler, catchError, defer, map, of, race, take } from "rxjs";
import { formatDuration } from "../domain/duration.js";
import { longTimer } from "./long-timer.js";
import type { Probe, ProbeResult } from "../domain/probe.js";

const failed = (reason: string): ProbeResult => ({ ok: false, reason });

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

const isProbeResult = (value: unknown): value is ProbeResult =>
  typeof value === "object" &&
  value !== null &&
  ((value as { ok?: unknown }).ok === true ||
    ((value as { ok?: unknown }).ok === false &&
      typeof (value as { reason?: unknown }).reason === "string"));

/** A latency a program's check gave that is no duration (NaN, negative, a string) is left out. */
const withSaneLatency = (result: ProbeResult): ProbeResult => {
  const { latencyMs } = result;
  if (latencyMs === undefined || (Number.isFinite(latencyMs) && latencyMs >= 0)) return result;
  const { latencyMs: _dropped, ...rest } = result;
  return rest;
};

/**
 * A program's probe made safe to run forever: a throw, an error or a rejected promise is a failed
 * check with its reason, a result that never comes is a failed check after `timeoutMs`, and only
 * the first verdict counts. A probe that completes without a verdict says nothing about the backend.
 */
export const boundedProbe =
  (probe: Probe, timeoutMs: number, scheduler: SchedulerLike = asyncScheduler): Probe =>
  (backend) =>
    race(
      defer(() => probe(backend)).pipe(
        take(1),
        map((result) =>
          isProbeResult(result)
            ? withSaneLatency(result)
            : failed("check gave no ok/reason result"),
        ),
      ),
      // A timer that holds any duration (rxjs's timeout would overflow past 24.8 days).
      longTimer(timeoutMs, undefined, scheduler).pipe(
        // It took the whole bound: a known latency, so slow checks show in the durations too.
        map((): ProbeResult => ({
          ok: false,
          reason: `check timed out after ${formatDuration(timeoutMs)}`,
          latencyMs: timeoutMs,
        })),
      ),
    ).pipe(catchError((error: unknown) => of(failed(`check failed: ${messageOf(error)}`))));
