import type { Backend } from "./backend.js";
import { checkDecides } from "./check.js";
import type { ProxyEvent } from "./proxy-event.js";

/**
 * Where a backend stands, with the streak that moves it: `falling` still takes clients until
 * `fall` failures in a row mark it down; `rising` takes none until `rise` good checks in a row
 * mark it up (the backend's `rise` and `fall`, 1 by default).
 */
export type HealthStatus =
  | { readonly kind: "up" }
  | { readonly kind: "falling"; readonly failed: number }
  | { readonly kind: "down" }
  | { readonly kind: "rising"; readonly passed: number };

/** What one backend looks like to the proxy: health plus the counters behind the STATS lines. */
export interface BackendHealth {
  readonly backend: Backend;
  readonly status: HealthStatus;
  /** Whether it takes new clients: its status is up or falling. */
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
  /** The latest check's verdict; null until the first check answers. */
  readonly lastCheck: LastCheck | null;
  /**
   * Set by an operator: "drain" takes no new clients (live ones stay), "maint" also stops its
   * checks. While set, `up` is false whatever the checks say; absent: checks decide.
   */
  readonly admin?: AdminHold;
  /**
   * Taken out of the list by a reload: no new clients, no checks; its live connections drain
   * and are still counted. A reload that lists it again brings it back.
   */
  readonly retired?: true;
  /** New clients that skipped it because it had its `maxconn` live connections; absent: none yet. */
  readonly backendFull?: number;
}

/** A check's verdict as the health state keeps it: when (stream clock), how long, and why not. */
export interface LastCheck {
  readonly ok: boolean;
  readonly at: number;
  /** How long the check took, when it said; null otherwise. */
  readonly latencyMs: number | null;
  /** Why it failed; null when it passed. */
  readonly reason: string | null;
}

/** How a backend is shown (status page, metrics): removed, an operator's hold, or its health. */
export const shownState = (b: BackendHealth): string =>
  b.retired === true ? "removed" : (b.admin ?? b.status.kind);

/** An operator's hold on a backend. */
export type AdminHold = "drain" | "maint";

/** What an operator can do to a backend's state: hold it, or give it back to its checks. */
export type AdminAction = AdminHold | "enable";

export interface Totals {
  readonly accepted: number;
  /** Clients closed because no backend could take them, or a local limit kept them from dialing. */
  readonly refused: number;
  readonly active: number;
  /** What the limits (-maxconn, -idle-timeout, ...) did; absent until one of them acted. */
  readonly limits?: LimitCounts;
}

/** Why a limit acted: a connection closed by a timeout, a backend skipped, accepting paused. */
export type LimitReason = "idle-timeout" | "fin-timeout" | "backend-full" | "accept-paused";

/** How often each limit acted. */
export interface LimitCounts {
  /** Connections closed for being idle both ways for -idle-timeout. */
  readonly idleTimeouts: number;
  /** Half-closed connections closed at -fin-timeout. */
  readonly finTimeouts: number;
  /** New clients that skipped a backend at its maxconn (every backend summed). */
  readonly backendFull: number;
  /** Times accepting paused at -maxconn. */
  readonly acceptPauses: number;
}

const NO_LIMITS: LimitCounts = { idleTimeouts: 0, finTimeouts: 0, backendFull: 0, acceptPauses: 0 };

export interface HealthState {
  /** By slot (a backend's `index`). */
  readonly backends: ReadonlyArray<BackendHealth>;
  readonly totals: Totals;
  /**
   * The slots in the list, in priority order, once a reload has changed the list; absent:
   * every slot, in index order.
   */
  readonly order?: ReadonlyArray<number>;
}

/**
 * The backends worth showing: the listed ones in priority order, then those a reload removed
 * while they still hold connections (a long-running proxy's removed backends do not pile up
 * in its stats, metrics and status).
 */
export const shown = (state: HealthState): ReadonlyArray<BackendHealth> =>
  state.order === undefined
    ? state.backends
    : [...ranked(state), ...state.backends.filter((b) => b.retired === true && b.active > 0)];

/** The listed backends in priority order (retired ones left out). */
export const ranked = (state: HealthState): ReadonlyArray<BackendHealth> =>
  state.order === undefined
    ? state.backends
    : state.order.flatMap((index) => state.backends[index] ?? []);

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
  /** A check's verdict; `latencyMs` when the check measured how long it took. */
  | {
      readonly type: "probe-ok";
      readonly backend: number;
      readonly latencyMs?: number;
      readonly at: number;
    }
  | {
      readonly type: "probe-failed";
      readonly backend: number;
      readonly reason: string;
      readonly latencyMs?: number;
      readonly at: number;
    }
  /** An operator held a backend (drain, maint) or gave it back to its checks (enable). */
  | {
      readonly type: "admin";
      readonly backend: number;
      readonly action: AdminAction;
      readonly at: number;
    }
  /**
   * A reload's new list: `backends` in priority order, each in its slot (see planBackends).
   * Listed backends keep their health and counters; new slots start as at start-up; slots
   * left out are retired.
   */
  | {
      readonly type: "reconfigure";
      readonly backends: ReadonlyArray<Backend>;
      readonly added: ReadonlyArray<Backend>;
      readonly removed: ReadonlyArray<Backend>;
      readonly changed: ReadonlyArray<Backend>;
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
    }
  /**
   * A limit acted `count` times (tallied per event-loop turn); `backend` for "backend-full".
   * Counters only: health stays as it is.
   */
  | {
      readonly type: "limited";
      readonly reason: LimitReason;
      readonly backend?: number;
      readonly count: number;
      readonly at: number;
    };

/**
 * Backends start up, since `at`: clients may use them while the start-up probe is still running.
 * A backend whose check decides (any check but a connect) starts rising with no check passed
 * yet: it takes no clients until its first check passes (never writes to a replica at start).
 */
export const initialHealth = (backends: ReadonlyArray<Backend>, at = 0): HealthState => ({
  backends: backends.map((backend) => freshHealth(backend, at)),
  totals: { accepted: 0, refused: 0, active: 0 },
});

/** A backend as it starts: up, or waiting for its first check when its check decides. */
const freshHealth = (backend: Backend, at: number): BackendHealth => ({
  backend,
  ...(checkDecides(backend.check)
    ? { status: UNCHECKED, up: false, upSince: null, downSince: at }
    : { status: UP, up: true, upSince: at, downSince: null }),
  pastDowntimeMs: 0,
  requests: 0,
  errors: 0,
  bytesIn: 0,
  bytesOut: 0,
  active: 0,
  lastUsed: null,
  lastCheck: null,
});

const UP: HealthStatus = { kind: "up" };
const DOWN: HealthStatus = { kind: "down" };
/** Waiting for its first check: rising with none passed (only ever the start-up state). */
const UNCHECKED: HealthStatus = { kind: "rising", passed: 0 };
const none: ReadonlyArray<ProxyEvent> = [];

/** One backend after an event, and what the outside world hears about it. */
interface BackendStep {
  readonly backend: BackendHealth;
  readonly transitions: ReadonlyArray<ProxyEvent>;
}

/** A good result (a check passed, a client connected): one more toward up. */
const passed = (b: BackendHealth, at: number): BackendStep => {
  const { kind } = b.status;
  if (kind === "up") return { backend: b, transitions: none };
  if (kind === "falling") return { backend: { ...b, status: UP }, transitions: none };
  const rise = b.backend.rise ?? 1;
  // Rise counts good checks after an outage; at start (none passed yet) the first one will do.
  const count = kind === "rising" ? (b.status.passed === 0 ? rise : b.status.passed + 1) : 1;
  if (count < rise) {
    return {
      backend: { ...b, status: { kind: "rising", passed: count } },
      transitions: [{ type: "backend-rising", backend: b.backend, passed: count, rise, at }],
    };
  }
  const downtimeMs = at - (b.downSince ?? at);
  return {
    backend: {
      ...b,
      status: UP,
      up: true,
      upSince: at,
      downSince: null,
      pastDowntimeMs: b.pastDowntimeMs + downtimeMs,
    },
    transitions: [{ type: "backend-up", backend: b.backend, downtimeMs, at }],
  };
};

/** A failure (a check failed, a client's connect failed): one more toward down. */
const failed = (
  b: BackendHealth,
  type: "connect-failed" | "probe-failed",
  reason: string,
  at: number,
): BackendStep => {
  const failure: ProxyEvent = { type, backend: b.backend, reason, at };
  const { kind } = b.status;
  if (kind === "down") return { backend: b, transitions: [failure] };
  if (kind === "rising") {
    // None passed: its first check failed. It never took clients, but say it is down and why.
    const news: ReadonlyArray<ProxyEvent> =
      b.status.passed === 0
        ? [failure, { type: "backend-down", backend: b.backend, reason, at }]
        : [failure];
    return { backend: { ...b, status: DOWN }, transitions: news };
  }
  const count = kind === "falling" ? b.status.failed + 1 : 1;
  const fall = b.backend.fall ?? 1;
  if (count < fall) {
    return {
      backend: { ...b, status: { kind: "falling", failed: count } },
      transitions: [
        failure,
        { type: "backend-falling", backend: b.backend, failed: count, fall, reason, at },
      ],
    };
  }
  return {
    backend: { ...b, status: DOWN, up: false, upSince: null, downSince: at },
    transitions: [failure, { type: "backend-down", backend: b.backend, reason, at }],
  };
};

const updateBackend = (
  state: HealthState,
  index: number,
  update: (b: BackendHealth) => BackendStep,
  totals: Totals = state.totals,
): HealthStep => {
  const current = state.backends[index];
  if (current === undefined) return { state, transitions: none };
  const backends = state.backends.slice();
  const step = update(current);
  // An operator's hold, or a reload that took it out, outlasts what checks and clients say.
  backends[index] =
    (step.backend.admin !== undefined || step.backend.retired === true) && step.backend.up
      ? { ...step.backend, up: false }
      : step.backend;
  return { state: { ...state, backends, totals }, transitions: step.transitions };
};

const counted = (state: HealthState): HealthStep => ({ state, transitions: none });

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
    ...state,
    backends,
    totals: { ...state.totals, accepted: state.totals.accepted + accepted, active },
  };
};

const takesClients = (status: HealthStatus): boolean =>
  status.kind === "up" || status.kind === "falling";

/** An operator's action: the hold is set or lifted; health itself (status, streaks) is kept. */
const adminStep = (b: BackendHealth, action: AdminAction, at: number): BackendStep => {
  const news: ReadonlyArray<ProxyEvent> = [
    { type: "backend-admin", backend: b.backend, action, at },
  ];
  if (action === "enable") {
    const { admin: _lifted, ...rest } = b;
    return { backend: { ...rest, up: takesClients(b.status) }, transitions: news };
  }
  return { backend: { ...b, admin: action, up: false }, transitions: news };
};

/** A check's verdict as a health event. */
export type ProbeEvent = Extract<HealthEvent, { readonly type: "probe-ok" | "probe-failed" }>;

export const lastCheckOf = (event: ProbeEvent): LastCheck => ({
  ok: event.type === "probe-ok",
  at: event.at,
  latencyMs: event.latencyMs ?? null,
  reason: event.type === "probe-failed" ? event.reason : null,
});

const limitKey = {
  "idle-timeout": "idleTimeouts",
  "fin-timeout": "finTimeouts",
  "backend-full": "backendFull",
  "accept-paused": "acceptPauses",
} as const satisfies Record<LimitReason, keyof LimitCounts>;

/** Counts a limit's acts in the totals and, for a full backend, in that backend. */
const addLimited = (
  state: HealthState,
  reason: LimitReason,
  backend: number | undefined,
  count: number,
): HealthState => {
  const limits = state.totals.limits ?? NO_LIMITS;
  const key = limitKey[reason];
  const totals: Totals = { ...state.totals, limits: { ...limits, [key]: limits[key] + count } };
  const b = backend === undefined ? undefined : state.backends[backend];
  if (backend === undefined || b === undefined || reason !== "backend-full")
    return { ...state, totals };
  const backends = state.backends.slice();
  backends[backend] = { ...b, backendFull: (b.backendFull ?? 0) + count };
  return { ...state, backends, totals };
};

/** One reducer step: the state after an event and the transitions it caused. */
export interface HealthStep {
  readonly state: HealthState;
  readonly transitions: ReadonlyArray<ProxyEvent>;
}

/**
 * The health reducer: one event in, the next state and the transitions it caused out. The
 * transitions come from the same decision as the state, so the two cannot disagree.
 */
export const stepHealth = (state: HealthState, event: HealthEvent): HealthStep => {
  const t = state.totals;
  switch (event.type) {
    case "admin":
      return updateBackend(state, event.backend, (b) => adminStep(b, event.action, event.at));
    case "accepted":
      return counted({ ...state, totals: { ...t, accepted: t.accepted + 1 } });
    case "no-backend":
      return {
        state: { ...state, totals: { ...t, refused: t.refused + 1 } },
        transitions: [{ type: "no-backend", at: event.at }],
      };
    case "connected":
      // A backend that answers a client counts as a good check, whatever the last probe said;
      // unless its check decides: a replica accepts clients too, only the check can tell.
      return updateBackend(
        state,
        event.backend,
        (b) => {
          const step = checkDecides(b.backend.check)
            ? { backend: b, transitions: none }
            : passed(b, event.at);
          return {
            backend: {
              ...step.backend,
              requests: b.requests + 1,
              active: b.active + 1,
              lastUsed: event.at,
            },
            transitions: step.transitions,
          };
        },
        { ...t, active: t.active + 1 },
      );
    case "closed":
      return updateBackend(
        state,
        event.backend,
        (b) => ({
          backend: {
            ...b,
            active: b.active - 1,
            bytesIn: b.bytesIn + event.bytesIn,
            bytesOut: b.bytesOut + event.bytesOut,
          },
          transitions: none,
        }),
        { ...t, active: t.active - 1 },
      );
    case "traffic":
      return counted(addTraffic(state, event.accepted, event.backends));
    case "connect-failed":
    case "probe-failed":
      return updateBackend(state, event.backend, (b) => {
        const step = failed(b, event.type, event.reason, event.at);
        return {
          backend: {
            ...step.backend,
            errors: b.errors + 1,
            lastUsed: event.at,
            ...(event.type === "probe-failed" ? { lastCheck: lastCheckOf(event) } : {}),
          },
          transitions: step.transitions,
        };
      });
    case "probe-ok":
      return updateBackend(state, event.backend, (b) => {
        const step = passed(b, event.at);
        return {
          backend: { ...step.backend, lastUsed: event.at, lastCheck: lastCheckOf(event) },
          transitions: step.transitions,
        };
      });
    case "refused-locally":
      return counted({ ...state, totals: { ...t, refused: t.refused + event.count } });
    case "reconfigure":
      return reconfigured(state, event);
    case "limited":
      return counted(addLimited(state, event.reason, event.backend, event.count));
  }
};

/** A reload's list: listed slots keep their health with their new settings; the rest retire. */
const reconfigured = (
  state: HealthState,
  event: Extract<HealthEvent, { type: "reconfigure" }>,
): HealthStep => {
  const backends = state.backends.slice();
  const listed = new Set<number>();
  for (const backend of event.backends) {
    listed.add(backend.index);
    const current = backends[backend.index];
    if (current === undefined) {
      backends[backend.index] = freshHealth(backend, event.at);
      continue;
    }
    const { retired: _back, ...rest } = current;
    backends[backend.index] = {
      ...rest,
      backend,
      up: takesClients(current.status) && current.admin === undefined,
    };
  }
  for (const [index, b] of backends.entries())
    if (!listed.has(index) && b.retired !== true)
      backends[index] = { ...b, retired: true, up: false };
  const { backends: _listed, ...summary } = event;
  return {
    state: { ...state, backends, order: event.backends.map((b) => b.index) },
    transitions: [{ ...summary, type: "config-reloaded" }],
  };
};

/** The next state only (see stepHealth for the transitions). */
export const reduceHealth = (state: HealthState, event: HealthEvent): HealthState =>
  stepHealth(state, event).state;

/** Cumulative downtime including the outage in progress. */
export const downtimeAt = (b: BackendHealth, now: number): number =>
  b.pastDowntimeMs + (b.downSince === null ? 0 : now - b.downSince);

export const upBackends = (state: HealthState): ReadonlyArray<Backend> =>
  ranked(state)
    .filter((b) => b.up)
    .map((b) => b.backend);

/** Listed backends that take no clients (retired ones are not checked). */
export const downBackends = (state: HealthState): ReadonlyArray<Backend> =>
  ranked(state)
    .filter((b) => !b.up)
    .map((b) => b.backend);
