import type { AddressInfo } from "node:net";
import { type Observable, Subject, filter, map, merge } from "rxjs";
import { backendsOf } from "./domain/backend.js";
import type { StartDataPlane } from "./domain/data-plane.js";
import type { HealthState } from "./domain/health.js";
import type { ProxyEvent } from "./domain/proxy-event.js";
import type { ProxySettings } from "./domain/proxy-options.js";
import type { Route } from "./domain/route.js";
import { KEEP_ON_FAILBACK } from "./domain/session-policy.js";
import type { StatsSnapshot } from "./domain/stats.js";
import { logProxyEvent, logStats } from "./adapters/event-log.js";
import { describeListening, startRelayServer } from "./adapters/relay-server.js";
import { type ControlPlaneConfig, startControlPlane } from "./control-plane.js";
import { sessionClosings } from "./streams/session-closings.js";

/** Decoded settings plus the pieces that are code, not data (as the control plane takes them). */
export interface ProxyConfig
  extends
    Omit<ProxySettings, "onDown" | "onFailback">,
    Partial<Pick<ProxySettings, "onDown" | "onFailback">>,
    Pick<ControlPlaneConfig, "route" | "logger" | "scheduler" | "probe"> {
  /** Where clients are served: by default a relay server in this process on `listen`. */
  readonly dataPlane?: StartDataPlane | undefined;
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

/**
 * The composition root, for the library and the command line alike: the control plane
 * (streams) and a data plane (sockets, in this process or in workers), wired.
 */
export const startFallbackProxy = (config: ProxyConfig): FallbackProxy => {
  const { logger, scheduler } = config;
  const backends = backendsOf(config.backends, config);
  // First, as it may refuse the route policy before anything starts.
  const control = startControlPlane({ ...config, backends });
  for (const backend of backends) logger.info(`Backend ${backend.label} added`);
  const startDataPlane: StartDataPlane =
    config.dataPlane ??
    ((wiring) =>
      startRelayServer({
        ...wiring,
        listen: config.listen,
        connectTimeoutMs: config.connectTimeoutMs,
        hedgeMs: config.hedgeMs,
      }));
  const dataPlane = startDataPlane({
    emit: control.emit,
    isUp: control.isUp,
    now: () => scheduler.now(),
    logger,
  });
  // route$ replays its latest route: the data plane has it before it can accept a client.
  const routing = control.route$.subscribe((route) => dataPlane.setRoute(route));
  // Subscribed after routing: at a failback the data plane has the new route before it closes.
  const sessionEvents = new Subject<ProxyEvent>();
  const closing$ = sessionClosings(
    control.route$,
    control.events$.pipe(
      filter((event) => event.type === "backend-down"),
      map((event) => event.backend),
    ),
    {
      onDown: config.onDown ?? "keep",
      onFailback: config.onFailback ?? KEEP_ON_FAILBACK,
      scheduler,
    },
  );
  routing.add(
    closing$.subscribe((order) => {
      const event: ProxyEvent = { type: "sessions-closed", ...order, at: scheduler.now() };
      logProxyEvent(logger, event);
      sessionEvents.next(event);
      dataPlane.closeSessions(order.backend.index);
    }),
  );
  const stop = (): void => {
    routing.unsubscribe();
    control.stop();
    sessionEvents.complete();
  };
  const listening = dataPlane.listening.then((address): AddressInfo => {
    logger.info(describeListening(address));
    return address;
  });
  listening.catch(stop);

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await dataPlane.drain(config.drainTimeoutMs);
      logStats(logger, control.snapshot());
      stop();
    })();
    return closing;
  };

  return {
    health$: control.health$,
    route$: control.route$,
    events$: merge(control.events$, sessionEvents),
    stats$: control.stats$,
    listening,
    snapshot: control.snapshot,
    close,
  };
};
