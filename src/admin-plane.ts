import type { AddressInfo } from "node:net";
import {
  type Observable,
  type SchedulerLike,
  type Subject,
  concat,
  defer,
  from,
  merge,
} from "rxjs";
import type { AdminApi } from "./adapters/admin/admin-api.js";
import {
  type AdminHandler,
  type AdminRoutes,
  createAdminRoutes,
} from "./adapters/admin/admin-routes.js";
import { type AdminServer, startAdminServer } from "./adapters/admin/admin-server.js";
import { type Metrics, createMetrics } from "./adapters/admin/metrics.js";
import { sendJson } from "./adapters/admin/http-json.js";
import { type Failure, adminStatus } from "./domain/admin-status.js";
import type { AdminSettings } from "./domain/admin-options.js";
import { type Backend, formatAddress } from "./domain/backend.js";
import type { CheckResult } from "./domain/check-result.js";
import type { DataPlane } from "./domain/data-plane.js";
import { type HealthEvent, type HealthState, ranked } from "./domain/health.js";
import type { Logger } from "./domain/logger.js";
import type { ProxyEvent } from "./domain/proxy-event.js";
import type { ReloadOutcome } from "./domain/reload.js";
import type { Route } from "./domain/route.js";
import { routeEvents } from "./streams/route-events.js";
import { version } from "./version.js";

/** Checks kept while the metrics load; more than the start-up checks of any real list. */
const MAX_EARLY_CHECKS = 1_000;

/** What the admin plane reads and steers: the control plane's streams and the data plane. */
export interface AdminPlaneConfig {
  /** The backends at start; after a reload, the health state's slots say which are listed. */
  readonly backends: ReadonlyArray<Backend>;
  readonly health$: Observable<HealthState>;
  readonly route$: Observable<Route>;
  /** The proxy's events$ (health changes, failures, session closings). */
  readonly events$: Observable<ProxyEvent>;
  /** Each check's verdict and latency, for the check duration histogram. */
  readonly checks$: Observable<CheckResult>;
  readonly emit: (event: HealthEvent) => void;
  readonly dataPlane: Pick<DataPlane, "closeSessions">;
  /** The operator's route override: a backend index, or null for the policy. */
  readonly override$: Subject<number | null>;
  readonly failback: () => void;
  /** Reloads the configuration file; absent without one. */
  readonly reload?: (() => Promise<ReloadOutcome>) | undefined;
  /** The proxy's bound address, once it listens. */
  readonly listenAddress: () => string | null;
  readonly logger: Logger;
  readonly scheduler: SchedulerLike;
}

export interface AdminPlane {
  /** The admin routes with `options` (token, extra handlers), for a server of the caller's own. */
  routes(options?: Pick<AdminSettings, "token" | "handlers">): AdminRoutes;
  /** Starts the admin server the settings ask for. */
  serve(settings: AdminSettings): AdminServer;
  /** Stops the plane's subscriptions and the metrics. */
  stop(): void;
}

/**
 * Wires the admin API (status, events, actions, metrics) to a running proxy. Metrics and
 * their library are loaded when an admin server or routes are made, so a proxy without
 * them never loads them.
 */
export const startAdminPlane = (config: AdminPlaneConfig): AdminPlane => {
  const { logger, scheduler } = config;
  const startedAt = scheduler.now();
  // The last failure per backend, for GET /status.
  const failures = new Map<number, Failure>();
  let route: Route = [];
  let health: HealthState = { backends: [], totals: { accepted: 0, refused: 0, active: 0 } };
  const subscription = config.route$.subscribe((next) => (route = next));
  subscription.add(config.health$.subscribe((next) => (health = next)));
  subscription.add(
    config.events$.subscribe((event) => {
      if (event.type === "probe-failed" || event.type === "connect-failed")
        failures.set(event.backend.index, { reason: event.reason, at: event.at });
    }),
  );

  const listed = (): ReadonlyArray<Backend> =>
    health.backends.length === 0 ? config.backends : ranked(health).map((b) => b.backend);
  const slot = (index: number): Backend | undefined =>
    health.backends[index]?.backend ?? config.backends[index];

  const api: AdminApi = {
    status: () =>
      adminStatus({
        version,
        startedAt,
        now: scheduler.now(),
        listen: config.listenAddress(),
        route,
        health,
        failures,
      }),
    events$: merge(config.events$, routeEvents(config.route$, scheduler)),
    // The listed backends now: a reload may have added some and removed others.
    backendIndex: (id) => listed().find((b) => b.id === id)?.index,
    act: (backend, action) => config.emit({ type: "admin", backend, action, at: scheduler.now() }),
    closeSessions: (backend) => {
      const target = slot(backend);
      if (target !== undefined)
        logger.info(`Closing connections of backend ${target.label}: by admin`);
      return config.dataPlane.closeSessions(backend);
    },
    overrideRoute: (backend) => {
      const target = backend === null ? undefined : slot(backend);
      logger.info(
        target === undefined
          ? "Route override lifted by admin: the policy decides"
          : `Route override by admin: new clients to ${target.label} while it is up`,
      );
      config.override$.next(backend);
    },
    failback: config.failback,
    reload: config.reload,
  };

  let metrics: Promise<Metrics> | null = null;
  /**
   * Starts loading the metrics as soon as an admin server or routes are made. Checks that
   * come while the library loads (the start-up checks) are kept, a bounded few, and counted
   * first: the histogram starts with them.
   */
  const loadMetrics = (): Promise<Metrics> => {
    if (metrics !== null) return metrics;
    const early: CheckResult[] = [];
    const waiting = config.checks$.subscribe((check) => {
      if (early.length < MAX_EARLY_CHECKS) early.push(check);
    });
    subscription.add(waiting);
    metrics = createMetrics({
      health$: config.health$,
      route$: config.route$,
      events$: config.events$,
      // Subscribed at once when loaded: the hand-over from the early ones leaves no gap.
      checks$: defer(() => {
        waiting.unsubscribe();
        return concat(from(early.splice(0)), config.checks$);
      }),
    });
    return metrics;
  };
  const metricsHandler: AdminHandler = (req, res) => {
    if ((req.url ?? "/").split("?", 1)[0] !== "/metrics") return false;
    loadMetrics().then(
      (loaded) => loaded.handler(req, res),
      (error: unknown) => {
        logger.error(`Admin metrics cannot load: ${String(error)}`);
        sendJson(res, 500, { error: "metrics unavailable" });
      },
    );
    return true;
  };

  const routes = (options: Pick<AdminSettings, "token" | "handlers"> = {}): AdminRoutes => {
    void loadMetrics().catch(() => undefined);
    return createAdminRoutes({
      token: options.token,
      handlers: [...((options.handlers ?? []) as ReadonlyArray<AdminHandler>), metricsHandler],
      api,
      logger,
    });
  };

  const serve = (settings: AdminSettings): AdminServer => {
    // Its failure is told at the first scrape.
    void loadMetrics().catch(() => undefined);
    const server = startAdminServer({
      address: settings.address,
      token: settings.token,
      handlers: [...((settings.handlers ?? []) as ReadonlyArray<AdminHandler>), metricsHandler],
      api,
      logger,
    });
    const listening = server.listening.then((address): AddressInfo => {
      logger.info(
        `Admin listening on ${formatAddress({ host: address.address, port: address.port })}`,
      );
      return address;
    });
    return { listening, close: server.close };
  };

  const stop = (): void => {
    subscription.unsubscribe();
    void metrics?.then((loaded) => loaded.stop());
  };

  return { routes, serve, stop };
};
