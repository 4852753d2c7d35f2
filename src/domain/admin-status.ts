import type { Backend } from "./backend.js";
import { formatAddress } from "./backend.js";
import { type BackendHealth, type HealthState, shown, shownState } from "./health.js";
import { type Route, shareOf } from "./route.js";

/** What GET /status answers, and what an SSE client gets first (a `state` event). */
export interface AdminStatus {
  readonly version: string;
  readonly uptimeMs: number;
  /** The proxy's bound address ("host:port"), null until it listens. */
  readonly listen: string | null;
  /** Backend ids new clients try, in order; `share` only when the first takes less than all. */
  readonly route: { readonly backends: ReadonlyArray<string>; readonly share?: number };
  readonly backends: ReadonlyArray<BackendStatus>;
  readonly totals: HealthState["totals"];
}

export interface BackendStatus {
  readonly id: string;
  readonly address: string;
  readonly index: number;
  /** up, falling, down, rising; drain / maint while an operator holds it; removed by a reload. */
  readonly state: string;
  readonly up: boolean;
  /** ISO time the current up period or outage began. */
  readonly since: string | null;
  /** Every outage so far, the current one included, in ms. */
  readonly downtimeMs: number;
  readonly requests: number;
  readonly errors: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly active: number;
  /** The last failed check's reason while it is not up (from the events), else null. */
  readonly lastFailure: { readonly reason: string; readonly at: string } | null;
  /** The latest check's verdict, how long it took (null: the check did not say), and why not. */
  readonly lastCheck: {
    readonly ok: boolean;
    readonly at: string;
    readonly latencyMs: number | null;
    readonly reason: string | null;
  } | null;
}

/** A failed check or connect, remembered per backend index. */
export interface Failure {
  readonly reason: string;
  readonly at: number;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export const backendStatus = (
  b: BackendHealth,
  now: number,
  failure: Failure | undefined,
): BackendStatus => ({
  id: b.backend.id,
  address: formatAddress(b.backend.address),
  index: b.backend.index,
  state: shownState(b),
  up: b.up,
  since: iso(b.downSince ?? b.upSince),
  downtimeMs: b.pastDowntimeMs + (b.downSince === null ? 0 : Math.max(0, now - b.downSince)),
  requests: b.requests,
  errors: b.errors,
  bytesIn: b.bytesIn,
  bytesOut: b.bytesOut,
  active: b.active,
  lastFailure:
    failure === undefined || b.status.kind === "up"
      ? null
      : { reason: failure.reason, at: new Date(failure.at).toISOString() },
  lastCheck:
    b.lastCheck === null ? null : { ...b.lastCheck, at: new Date(b.lastCheck.at).toISOString() },
});

const routeIds = (route: Route): AdminStatus["route"] => {
  const backends = route.map((b: Backend) => b.id);
  const share = shareOf(route);
  return share < 1 ? { backends, share } : { backends };
};

export interface StatusInput {
  readonly version: string;
  readonly startedAt: number;
  readonly now: number;
  readonly listen: string | null;
  readonly route: Route;
  readonly health: HealthState;
  readonly failures: ReadonlyMap<number, Failure>;
}

/** The status body: pure, from the health state, the route and the clock. */
export const adminStatus = (input: StatusInput): AdminStatus => ({
  version: input.version,
  uptimeMs: input.now - input.startedAt,
  listen: input.listen,
  route: routeIds(input.route),
  // The list in priority order, then backends a reload removed while they hold connections.
  backends: shown(input.health).map((b) =>
    backendStatus(b, input.now, input.failures.get(b.backend.index)),
  ),
  totals: input.health.totals,
});
