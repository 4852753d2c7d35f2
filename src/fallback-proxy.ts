import type { AddressInfo, Server, Socket } from "node:net";
import {
  BehaviorSubject,
  type Observable,
  type SchedulerLike,
  Subject,
  Subscription,
  distinctUntilChanged,
  share,
  ReplaySubject,
} from "rxjs";
import { formatAddress, makeBackends } from "./domain/backend.js";
import type { ProxySettings } from "./domain/proxy-options.js";
import { type HealthEvent, type HealthState, initialHealth } from "./domain/health.js";
import type { Logger } from "./domain/logger.js";
import type { ProxyEvent } from "./domain/proxy-event.js";
import { type Route, sameRoute } from "./domain/route.js";
import { type StatsSnapshot, snapshotOf } from "./domain/stats.js";
import { logProxyEvent, logStats } from "./adapters/event-log.js";
import { boundAddress, listen } from "./adapters/listener.js";
import { tcpConnectProbe } from "./adapters/prober.js";
import { type RelayContext, relayClient } from "./adapters/relay.js";
import { formatDuration } from "./domain/duration.js";
import { healthLoop } from "./streams/health-loop.js";
import type { Probe } from "./streams/probe-schedule.js";
import type { RoutePolicy } from "./streams/route-policies.js";
import { statsSnapshots } from "./streams/stats-snapshots.js";

/** Decoded settings plus the pieces that are code, not data. */
export interface ProxyConfig extends ProxySettings {
  readonly route: RoutePolicy;
  readonly logger: Logger;
  readonly scheduler: SchedulerLike;
  /** How down backends are checked; a TCP connect by default. */
  readonly probe?: Probe | undefined;
}

export interface FallbackProxy {
  /** Current health of every backend, replayed to new subscribers. */
  readonly health$: Observable<HealthState>;
  /** Backends new clients will try, in order; replayed to new subscribers. */
  readonly route$: Observable<Route>;
  /** Health changes and failures as they happen (not replayed). */
  readonly events$: Observable<ProxyEvent>;
  /** A snapshot every stats interval. */
  readonly stats$: Observable<StatsSnapshot>;
  /** Resolves with the bound address; rejects if the listen address cannot be bound. */
  readonly listening: Promise<AddressInfo>;
  /** Counters and health right now. */
  snapshot(): StatsSnapshot;
  /**
   * Stops accepting, lets live connections finish for up to the drain timeout, closes the
   * rest, logs final stats and stops probing. Safe to call more than once.
   */
  close(): Promise<void>;
}

/** The composition root: builds the health loop, the route and the adapters, and wires them. */
export const startFallbackProxy = (config: ProxyConfig): FallbackProxy => {
  const { logger, scheduler } = config;
  const backends = makeBackends(config.backends, config.backendLabels);
  const now = (): number => scheduler.now();
  const connectionEvents = new Subject<HealthEvent>();
  const events = new Subject<ProxyEvent>();
  const subscriptions = new Subscription();

  for (const backend of backends) logger.info(`Backend ${backend.label} added`);

  const steps$ = healthLoop({
    backends,
    connectionEvents$: connectionEvents,
    probe: config.probe ?? tcpConnectProbe(config.connectTimeoutMs),
    probeDelayMs: config.probeDelayMs,
    scheduler,
  }).pipe(share());
  const health = new BehaviorSubject<HealthState>(initialHealth(backends));
  subscriptions.add(
    steps$.subscribe((step) => {
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

  // Clients from accept until their relay is over: what a graceful shutdown waits for.
  const live = new Set<Socket>();
  let onIdle: (() => void) | null = null;
  const context: RelayContext = {
    currentRoute: () => currentRoute,
    connectTimeoutMs: config.connectTimeoutMs,
    emit: (event) => connectionEvents.next(event),
    now,
    logger,
    finished: (client) => {
      live.delete(client);
      if (live.size === 0) onIdle?.();
    },
  };
  const onClient = (socket: Socket): void => {
    live.add(socket);
    relayClient(socket, context);
  };

  let server: Server | null = null;
  const listening = listen(config.listen, onClient).then((bound) => {
    server = bound;
    // After bind, accept errors (e.g. out of file descriptors) are logged; the proxy goes on.
    bound.on("error", (error: Error) => logger.error(`Accept failed: ${error.message}`));
    const address = boundAddress(bound);
    logger.info(`Listening on ${formatAddress({ host: address.address, port: address.port })}`);
    return address;
  });
  listening.catch(() => subscriptions.unsubscribe());

  const snapshot = (): StatsSnapshot => snapshotOf(health.getValue(), now());

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await listening.catch(() => undefined);
      const bound = server as Server | null;
      const stopped =
        bound === null ? Promise.resolve() : new Promise<void>((r) => bound.close(() => r()));
      if (live.size > 0) {
        logger.info(
          `Draining ${live.size} connection(s) for up to ${formatDuration(config.drainTimeoutMs)}`,
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            // Out of time: closing the clients makes their relays close the backend side too.
            for (const client of live) client.destroy();
          }, config.drainTimeoutMs);
          onIdle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await stopped;
      logStats(logger, snapshot());
      subscriptions.unsubscribe();
      events.complete();
      health.complete();
      connectionEvents.complete();
    })();
    return closing;
  };

  return { health$, route$, events$: events.asObservable(), stats$, listening, snapshot, close };
};
