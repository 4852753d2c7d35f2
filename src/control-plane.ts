import {
  BehaviorSubject,
  type Observable,
  ReplaySubject,
  type SchedulerLike,
  Subject,
  Subscription,
  distinctUntilChanged,
  share,
} from "rxjs";
import type { Backend } from "./domain/backend.js";
import { type HealthEvent, type HealthState, initialHealth } from "./domain/health.js";
import type { Logger } from "./domain/logger.js";
import type { ProxyEvent } from "./domain/proxy-event.js";
import { type Route, sameRoute } from "./domain/route.js";
import { type StatsSnapshot, snapshotOf } from "./domain/stats.js";
import { logProxyEvent, logStats } from "./adapters/event-log.js";
import { tcpConnectProbe } from "./adapters/prober.js";
import { healthLoop } from "./streams/health-loop.js";
import type { Probe } from "./streams/probe-schedule.js";
import type { RoutePolicy } from "./streams/route-policies.js";
import { statsSnapshots } from "./streams/stats-snapshots.js";

export interface ControlPlaneConfig {
  readonly backends: ReadonlyArray<Backend>;
  readonly connectTimeoutMs: number;
  readonly probeDelayMs: number;
  readonly statsIntervalMs: number;
  readonly route: RoutePolicy;
  readonly logger: Logger;
  readonly scheduler: SchedulerLike;
  /** How down backends are checked; a TCP connect by default. */
  readonly probe?: Probe | undefined;
}

/** Health, route, events and stats for a set of backends: everything but the sockets. */
export interface ControlPlane {
  readonly health$: Observable<HealthState>;
  readonly route$: Observable<Route>;
  readonly events$: Observable<ProxyEvent>;
  readonly stats$: Observable<StatsSnapshot>;
  /** Feeds a connection outcome into the health loop (synchronously: the route follows at once). */
  emit(event: HealthEvent): void;
  /** The latest route, for a synchronous read per dial. */
  currentRoute(): Route;
  /** Whether a backend is up now (by index). */
  isUp(backend: number): boolean;
  snapshot(): StatsSnapshot;
  /** Stops probing and stats, completes the streams. */
  stop(): void;
}

/**
 * Builds the control loop: connection events and probe results fold into one health-state
 * stream, the route and the stats derive from it, and events and stats are logged.
 */
export const startControlPlane = (config: ControlPlaneConfig): ControlPlane => {
  const { backends, logger, scheduler } = config;
  const connectionEvents = new Subject<HealthEvent>();
  const events = new Subject<ProxyEvent>();
  const subscriptions = new Subscription();

  const health = new BehaviorSubject<HealthState>(initialHealth(backends));
  subscriptions.add(
    healthLoop({
      backends,
      connectionEvents$: connectionEvents,
      probe: config.probe ?? tcpConnectProbe(config.connectTimeoutMs),
      probeDelayMs: config.probeDelayMs,
      scheduler,
    }).subscribe((step) => {
      health.next(step.state);
      for (const event of step.transitions) events.next(event);
    }),
  );
  const health$ = health.asObservable();

  const route$ = config
    .route(health$)
    .pipe(
      distinctUntilChanged(sameRoute),
      share({ connector: () => new ReplaySubject<Route>(1), resetOnRefCountZero: false }),
    );
  let currentRoute: Route = [];
  subscriptions.add(route$.subscribe((route) => (currentRoute = route)));

  const stats$ = statsSnapshots(health$, config.statsIntervalMs, scheduler).pipe(share());
  subscriptions.add(events.subscribe((event) => logProxyEvent(logger, event)));
  subscriptions.add(stats$.subscribe((snapshot) => logStats(logger, snapshot)));

  return {
    health$,
    route$,
    events$: events.asObservable(),
    stats$,
    emit: (event) => connectionEvents.next(event),
    currentRoute: () => currentRoute,
    isUp: (backend) => health.getValue().backends[backend]?.up === true,
    snapshot: () => snapshotOf(health.getValue(), scheduler.now()),
    stop: () => {
      subscriptions.unsubscribe();
      events.complete();
      health.complete();
      connectionEvents.complete();
    },
  };
};
