import type { Observable, Subscription } from "rxjs";
import type { Backend } from "../../domain/backend.js";
import type { CheckResult } from "../../domain/check-result.js";
import {
  type BackendHealth,
  type HealthState,
  downtimeAt,
  shown,
  shownState,
} from "../../domain/health.js";
import type { ProxyEvent } from "../../domain/proxy-event.js";
import type { Route } from "../../domain/route.js";
import { version } from "../../version.js";
import type { AdminHandler } from "./admin-server.js";
import { failureCode } from "./failure-code.js";

/** What a FallbackProxy offers (health$, route$, events$): all the metrics are made from. */
export interface MetricsSource {
  readonly health$: Observable<HealthState>;
  readonly route$: Observable<Route>;
  readonly events$: Observable<ProxyEvent>;
  /** Each check's verdict as it arrives: without it, no check duration histogram. */
  readonly checks$?: Observable<CheckResult> | undefined;
}

export interface Metrics {
  /** Serves GET (and HEAD) /metrics; false for any other path. */
  readonly handler: AdminHandler;
  /** Stops listening to the proxy and clears the registry. */
  stop(): void;
}

export const METRICS_PREFIX = "tcp_fallback_";

/** Check durations, in seconds: a loopback connect (a millisecond) up to a slow login (10 s). */
export const CHECK_DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/** Every state a backend can be shown in; drain and maint come from admin actions. */
export const BACKEND_STATES = [
  "up",
  "down",
  "rising",
  "falling",
  "drain",
  "maint",
  "removed",
] as const;

const backendLabels = (backend: Backend): { backend: string; index: string } => ({
  backend: backend.label,
  index: String(backend.index),
});

/**
 * Prometheus metrics of a proxy on a private registry (prom-client is loaded here, so a proxy
 * without an admin server never loads it).
 *
 * Counters kept by the health state (connections, bytes, accepted, refused, downtime) are
 * gauges named `_total`, set from the latest state at scrape time: the state is the one count,
 * and a prom-client Counter cannot be set. Prometheus' rate() and increase() work on them the
 * same. Counters of events (state changes, connect errors, check failures, failovers) are
 * Counters fed by the streams. The check duration histogram is fed by `checks$`, each check
 * that says how long it took.
 */
export const createMetrics = async (source: MetricsSource): Promise<Metrics> => {
  const prom = await import("prom-client");
  const registry = new prom.Registry();
  const registers = [registry];
  const name = (suffix: string): string => METRICS_PREFIX + suffix;
  const perBackend = ["backend", "index"] as const;

  let health: HealthState | null = null;
  let primary: Backend | null = null;
  let lastLead: Backend | null = null;
  let routeBackends: ReadonlyArray<Backend> = [];

  /** Sets a gauge per backend from the latest state when scraped. */
  const backendGauge = (
    suffix: string,
    help: string,
    value: (b: BackendHealth, now: number) => number,
  ): void => {
    new prom.Gauge({
      name: name(suffix),
      help,
      labelNames: perBackend,
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const b of health === null ? [] : shown(health))
          this.set(backendLabels(b.backend), value(b, now));
      },
    });
  };
  const totalsGauge = (
    suffix: string,
    help: string,
    value: (state: HealthState) => number,
  ): void => {
    new prom.Gauge({
      name: name(suffix),
      help,
      registers,
      collect() {
        this.set(health === null ? 0 : value(health));
      },
    });
  };

  backendGauge("up", "Whether the backend takes new clients (1) or not (0).", (b) =>
    b.up ? 1 : 0,
  );
  new prom.Gauge({
    name: name("state"),
    help: "The backend's state: 1 for the state it is in, 0 for the others.",
    labelNames: [...perBackend, "state"] as const,
    registers,
    collect() {
      this.reset();
      for (const b of health === null ? [] : shown(health)) {
        const current = shownState(b);
        for (const state of BACKEND_STATES)
          this.set({ ...backendLabels(b.backend), state }, state === current ? 1 : 0);
      }
    },
  });
  backendGauge(
    "connections_total",
    "Client connections relayed to the backend (counter, set from the proxy's count).",
    (b) => b.requests,
  );
  backendGauge(
    "connections_active",
    "Client connections open to the backend now.",
    (b) => b.active,
  );
  backendGauge(
    "received_bytes_total",
    "Bytes received from clients and sent on to the backend (counter).",
    (b) => b.bytesIn,
  );
  backendGauge(
    "sent_bytes_total",
    "Bytes received from the backend and sent back to clients (counter).",
    (b) => b.bytesOut,
  );
  backendGauge(
    "downtime_seconds_total",
    "Time the backend has been down, the outage in progress included (counter).",
    (b, now) => downtimeAt(b, now) / 1000,
  );
  totalsGauge("clients_accepted_total", "Clients accepted (counter).", (s) => s.totals.accepted);
  totalsGauge(
    "clients_refused_total",
    "Clients closed because no backend could take them (counter).",
    (s) => s.totals.refused,
  );
  totalsGauge("clients_active", "Clients connected now.", (s) => s.totals.active);
  totalsGauge(
    "idle_timeouts_total",
    "Connections closed for no bytes either way for -idle-timeout (counter).",
    (s) => s.totals.limits?.idleTimeouts ?? 0,
  );
  totalsGauge(
    "fin_timeouts_total",
    "Half-closed connections closed at -fin-timeout (counter).",
    (s) => s.totals.limits?.finTimeouts ?? 0,
  );
  totalsGauge(
    "accept_paused_total",
    "Times accepting paused at -maxconn, in any process (counter).",
    (s) => s.totals.limits?.acceptPauses ?? 0,
  );
  backendGauge(
    "backend_full_total",
    "New clients that skipped the backend at its maxconn for the next one (counter).",
    (b) => b.backendFull ?? 0,
  );
  new prom.Gauge({
    name: name("route_primary"),
    help: "1 for the backend new clients go to now, 0 for the others.",
    labelNames: perBackend,
    registers,
    collect() {
      this.reset();
      for (const b of health === null ? [] : shown(health))
        this.set(backendLabels(b.backend), primary?.index === b.backend.index ? 1 : 0);
    },
  });
  new prom.Gauge({
    name: name("route_backends"),
    help: "Backends in the route new clients try, in order.",
    registers,
    collect() {
      this.set(routeBackends.length);
    },
  });
  new prom.Gauge({
    name: name("build_info"),
    help: "The running version (always 1).",
    labelNames: ["version"] as const,
    registers,
  }).set({ version }, 1);

  const stateChanges = new prom.Counter({
    name: name("state_changes_total"),
    help: "Times the backend's state changed.",
    labelNames: perBackend,
    registers,
  });
  const connectErrors = new prom.Counter({
    name: name("connect_errors_total"),
    help: "Client connects to the backend that failed, by reason code.",
    labelNames: [...perBackend, "reason"] as const,
    registers,
  });
  const checkFailures = new prom.Counter({
    name: name("check_failures_total"),
    help: "Checks of the backend that failed, by reason code.",
    labelNames: [...perBackend, "reason"] as const,
    registers,
  });
  const reloads = new prom.Counter({
    name: name("config_reloads_total"),
    help: "Reloads of the configuration, applied or refused.",
    labelNames: ["result"] as const,
    registers,
  });
  reloads.inc({ result: "applied" }, 0);
  reloads.inc({ result: "refused" }, 0);
  const failovers = new prom.Counter({
    name: name("failovers_total"),
    help: "Times new clients went to another backend than the last one that took them.",
    registers,
  });
  const checkDurations =
    source.checks$ === undefined
      ? null
      : new prom.Histogram({
          name: name("check_duration_seconds"),
          help: "How long the backend's checks took, passed or failed.",
          labelNames: perBackend,
          buckets: [...CHECK_DURATION_BUCKETS],
          registers,
        });
  prom.collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });

  const subscriptions: Subscription[] = [];
  let lastStates: ReadonlyArray<string> = [];
  subscriptions.push(
    source.health$.subscribe((state) => {
      const states = state.backends.map(shownState);
      state.backends.forEach((b, i) => {
        const before = lastStates[i];
        if (before !== undefined && before !== states[i])
          stateChanges.inc(backendLabels(b.backend));
        else if (before === undefined) {
          // Every backend's series from the start, so a rate over them never lacks one.
          stateChanges.inc(backendLabels(b.backend), 0);
          checkDurations?.zero(backendLabels(b.backend));
        }
      });
      lastStates = states;
      health = state;
    }),
    source.route$.subscribe((route) => {
      const first = route[0] ?? null;
      // A failover is new clients going to another backend than the last one that took them:
      // the first route is where traffic starts, and an empty route is an outage, not one.
      if (first !== null) {
        if (lastLead !== null && first.index !== lastLead.index) failovers.inc();
        lastLead = first;
      }
      primary = first;
      routeBackends = route;
    }),
    source.events$.subscribe((event) => {
      if (event.type === "connect-failed")
        connectErrors.inc({ ...backendLabels(event.backend), reason: failureCode(event.reason) });
      else if (event.type === "probe-failed")
        checkFailures.inc({ ...backendLabels(event.backend), reason: failureCode(event.reason) });
      else if (event.type === "config-reloaded") reloads.inc({ result: "applied" });
      else if (event.type === "config-refused") reloads.inc({ result: "refused" });
    }),
  );
  if (source.checks$ !== undefined)
    subscriptions.push(
      source.checks$.subscribe((check) => {
        if (check.latencyMs !== null)
          checkDurations?.observe(backendLabels(check.backend), check.latencyMs / 1000);
      }),
    );

  const handler: AdminHandler = (req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path !== "/metrics") return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "application/json", allow: "GET, HEAD" });
      res.end(JSON.stringify({ error: `${req.method ?? "?"} not allowed on /metrics` }) + "\n");
      return true;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (error: unknown) => {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: String(error) }) + "\n");
      },
    );
    return true;
  };

  return {
    handler,
    stop: () => {
      for (const subscription of subscriptions) subscription.unsubscribe();
      registry.clear();
    },
  };
};
