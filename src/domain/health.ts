import type { Backend } from "./backend.js";

/** What one backend looks like to the proxy: health plus the counters behind the STATS lines. */
export interface BackendHealth {
  readonly backend: Backend;
  readonly up: boolean;
  /** When the current up period began (ms on the stream's clock); null while down. */
  readonly upSince: number | null;
  /** When the current outage began (ms on the stream's clock); null while up. */
  readonly downSince: number | null;
  /** Downtime of outages that have ended, in ms. */
  readonly pastDowntimeMs: number;
  /** Connections relayed (successful dials). */
  readonly requests: number;
  /** Failed dials and failed probes. */
  readonly errors: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly active: number;
  /** Last use or probe (ms on the stream's clock); null if never. */
  readonly lastUsed: number | null;
}

export interface Totals {
  readonly accepted: number;
  /** Clients closed because no backend could take them, or a local limit kept them from dialing. */
  readonly refused: number;
  readonly active: number;
}

export interface HealthState {
  readonly backends: ReadonlyArray<BackendHealth>;
  readonly totals: Totals;
}

/** Counters of one backend's traffic since the last tally. */
export interface TrafficDelta {
  readonly backend: number;
  readonly connected: number;
  readonly closed: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly lastUsed: number | null;
}

/** Everything that moves health or counters. `at` is stamped at the edge, so the reducer stays pure. */
export type HealthEvent =
  | { readonly type: "accepted"; readonly at: number }
  /**
   * Many connections' counters at once: what the relay tallies between two turns of the event
   * loop, so busy traffic costs one step of the health stream, not three per connection.
   * It never changes health.
   */
  | {
      readonly type: "traffic";
      readonly accepted: number;
      readonly backends: ReadonlyArray<TrafficDelta>;
      readonly at: number;
    }
  | { readonly type: "connected"; readonly backend: number; readonly at: number }
  | {
      readonly type: "connect-failed";
      readonly backend: number;
      readonly reason: string;
      readonly at: number;
    }
  | {
      readonly type: "closed";
      readonly backend: number;
      readonly bytesIn: number;
      readonly bytesOut: number;
      readonly at: number;
    }
  | { readonly type: "no-backend"; readonly at: number }
  | { readonly type: "probe-ok"; readonly backend: number; readonly at: number }
  | {
      readonly type: "probe-failed";
      readonly backend: number;
      readonly reason: string;
      readonly at: number;
    }
  /**
   * Clients closed because a dial failed for a local reason (out of descriptors, ports,
   * buffers): no backend is to blame, so health stays as it is; they count as refused.
   */
  | {
      readonly type: "refused-locally";
      readonly count: number;
      readonly reason: string;
      readonly at: number;
    };

/**
 * Backends start up, since `at`: clients may use them while the start-up probe is still running.
 */
export const initialHealth = (backends: ReadonlyArray<Backend>, at = 0): HealthState => ({
  backends: backends.map((backend) => ({
    backend,
    up: true,
    upSince: at,
    downSince: null,
    pastDowntimeMs: 0,
    requests: 0,
    errors: 0,
    bytesIn: 0,
    bytesOut: 0,
    active: 0,
    lastUsed: null,
  })),
  totals: { accepted: 0, refused: 0, active: 0 },
});

const markUp = (b: BackendHealth, at: number): BackendHealth =>
  b.up
    ? b
    : {
        ...b,
        up: true,
        upSince: at,
        downSince: null,
        pastDowntimeMs: b.pastDowntimeMs + (at - (b.downSince ?? at)),
      };

const markDown = (b: BackendHealth, at: number): BackendHealth =>
  b.up ? { ...b, up: false, upSince: null, downSince: at } : b;

const updateBackend = (
  state: HealthState,
  index: number,
  update: (b: BackendHealth) => BackendHealth,
  totals: Totals = state.totals,
): HealthState => {
  const current = state.backends[index];
  if (current === undefined) return state;
  const backends = state.backends.slice();
  backends[index] = update(current);
  return { backends, totals };
};

const addTraffic = (
  state: HealthState,
  accepted: number,
  deltas: ReadonlyArray<TrafficDelta>,
): HealthState => {
  const backends = state.backends.slice();
  let active = state.totals.active;
  for (const d of deltas) {
    const b = backends[d.backend];
    if (b === undefined) continue;
    active += d.connected - d.closed;
    backends[d.backend] = {
      ...b,
      requests: b.requests + d.connected,
      active: b.active + d.connected - d.closed,
      bytesIn: b.bytesIn + d.bytesIn,
      bytesOut: b.bytesOut + d.bytesOut,
      lastUsed: d.lastUsed === null ? b.lastUsed : Math.max(d.lastUsed, b.lastUsed ?? d.lastUsed),
    };
  }
  return {
    backends,
    totals: { ...state.totals, accepted: state.totals.accepted + accepted, active },
  };
};

/** The health reducer: one event in, the next state out. */
export const reduceHealth = (state: HealthState, event: HealthEvent): HealthState => {
  const t = state.totals;
  switch (event.type) {
    case "accepted":
      return { backends: state.backends, totals: { ...t, accepted: t.accepted + 1 } };
    case "no-backend":
      return { backends: state.backends, totals: { ...t, refused: t.refused + 1 } };
    case "connected":
      // A backend that answers a client is up, whatever the last probe said.
      return updateBackend(
        state,
        event.backend,
        (b) => ({
          ...markUp(b, event.at),
          requests: b.requests + 1,
          active: b.active + 1,
          lastUsed: event.at,
        }),
        { ...t, active: t.active + 1 },
      );
    case "closed":
      return updateBackend(
        state,
        event.backend,
        (b) => ({
          ...b,
          active: b.active - 1,
          bytesIn: b.bytesIn + event.bytesIn,
          bytesOut: b.bytesOut + event.bytesOut,
        }),
        { ...t, active: t.active - 1 },
      );
    case "traffic":
      return addTraffic(state, event.accepted, event.backends);
    case "connect-failed":
    case "probe-failed":
      return updateBackend(state, event.backend, (b) => ({
        ...markDown(b, event.at),
        errors: b.errors + 1,
        lastUsed: event.at,
      }));
    case "probe-ok":
      return updateBackend(state, event.backend, (b) => ({
        ...markUp(b, event.at),
        lastUsed: event.at,
      }));
    case "refused-locally":
      return { backends: state.backends, totals: { ...t, refused: t.refused + event.count } };
  }
};

/** Cumulative downtime including the outage in progress. */
export const downtimeAt = (b: BackendHealth, now: number): number =>
  b.pastDowntimeMs + (b.downSince === null ? 0 : now - b.downSince);

export const upBackends = (state: HealthState): ReadonlyArray<Backend> =>
  state.backends.filter((b) => b.up).map((b) => b.backend);

export const downBackends = (state: HealthState): ReadonlyArray<Backend> =>
  state.backends.filter((b) => !b.up).map((b) => b.backend);
