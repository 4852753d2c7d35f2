import * as E from "fp-ts/lib/Either.js";
import type { Backend } from "./backend.js";
import { type HealthState, ranked } from "./health.js";

/**
 * Where new clients go: backends to try in order. The first is the target; the rest are
 * fallbacks for the same client if its connect fails. Empty means no backend can take clients.
 * A `share` below 1 (a ramp) sends only that share of new clients to the first backend; the
 * others try the rest first and the first one last.
 */
export type Route = ReadonlyArray<Backend> & { readonly share?: number };

/** The share of new clients a route's first backend takes: 1 unless the route says less. */
export const shareOf = (route: Route): number => route.share ?? 1;

/** `backends` as a route whose first backend takes `share` of new clients (1: all of them). */
export const withShare = (backends: ReadonlyArray<Backend>, share: number): Route =>
  share >= 1 ? backends : Object.assign(backends.slice(), { share });

export const sameRoute = (a: Route, b: Route): boolean =>
  a.length === b.length &&
  shareOf(a) === shareOf(b) &&
  a.every((backend, i) => backend.index === b[i]?.index);

/** Healthy backends in list order: the primary whenever it is up (immediate failback). */
export const firstHealthyRoute = (state: HealthState): Route =>
  ranked(state)
    .filter((b) => b.up)
    .map((b) => b.backend);

/**
 * Sticky choice: keep `current` while it is up; otherwise take the first healthy backend.
 * Returns null when nothing is up.
 */
export const stickyChoice = (current: Backend | null, state: HealthState): Backend | null => {
  if (current !== null && state.backends[current.index]?.up === true) return current;
  return ranked(state).find((b) => b.up)?.backend ?? null;
};

/** A route led by `lead`, then the other healthy backends in list order. */
export const routeLedBy = (lead: Backend | null, state: HealthState): Route => {
  const healthy = firstHealthyRoute(state);
  return lead === null ? healthy : [lead, ...healthy.filter((b) => b.index !== lead.index)];
};

/**
 * A policy's output as a route of `backends` (the proxy's own objects, found by index), or what
 * is wrong with it. Runs once per route change, never per connection.
 */
export const checkRoute = (
  value: unknown,
  backends: ReadonlyArray<Backend>,
): E.Either<string, Route> => {
  if (!Array.isArray(value))
    return E.left(
      `a route must be an array of backends, got ${value === null ? "null" : typeof value}`,
    );
  const route: Backend[] = [];
  for (const [i, item] of (value as unknown[]).entries()) {
    const index = (item as { index?: unknown } | null)?.index;
    const backend = typeof index === "number" ? backends[index] : undefined;
    if (backend === undefined) return E.left(`route[${i}] is not one of the proxy's backends`);
    route.push(backend);
  }
  const share = (value as { share?: unknown }).share;
  if (share === undefined) return E.right(route);
  if (typeof share !== "number" || !(share >= 0 && share <= 1))
    return E.left(`a route's share must be a number from 0 to 1, got ${String(share)}`);
  return E.right(withShare(route, share));
};

/**
 * Healthy backends in list order, except that one back up for less than `holdMs` (and not up
 * since `startedAt`, when every backend counts as settled) goes after the settled ones: it takes
 * new clients only when no settled backend can.
 */
export const settledFirstRoute = (
  state: HealthState,
  now: number,
  holdMs: number,
  startedAt: number,
): Route => {
  const settled: Backend[] = [];
  const recent: Backend[] = [];
  for (const b of ranked(state)) {
    if (!b.up) continue;
    const fresh = b.upSince !== null && b.upSince > startedAt && now - b.upSince < holdMs;
    (fresh ? recent : settled).push(b.backend);
  }
  return recent.length === 0 ? settled : [...settled, ...recent];
};

/** When the next backend in hold-down settles, or null if none is waiting. */
export const nextSettleAt = (
  state: HealthState,
  now: number,
  holdMs: number,
  startedAt: number,
): number | null => {
  let next: number | null = null;
  for (const b of state.backends) {
    if (!b.up || b.upSince === null || b.upSince <= startedAt) continue;
    const at = b.upSince + holdMs;
    if (at > now && (next === null || at < next)) next = at;
  }
  return next;
};
