import type { AddressInfo } from "node:net";
import type { Observable } from "rxjs";
import { makeBackends } from "./domain/backend.js";
import type { StartDataPlane } from "./domain/data-plane.js";
import type { HealthState } from "./domain/health.js";
import type { ProxyEvent } from "./domain/proxy-event.js";
import type { ProxySettings } from "./domain/proxy-options.js";
import type { Route } from "./domain/route.js";
import type { StatsSnapshot } from "./domain/stats.js";
import { logStats } from "./adapters/event-log.js";
import { describeListening, startRelayServer } from "./adapters/relay-server.js";
import { type ControlPlaneConfig, startControlPlane } from "./control-plane.js";

/** Decoded settings plus the pieces that are code, not data (as the control plane takes them). */
export interface ProxyConfig
  extends ProxySettings, Pick<ControlPlaneConfig, "route" | "logger" | "scheduler" | "probe"> {
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
  const backends = makeBackends(config.backends, config.backendLabels, config);
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
  const stop = (): void => {
    routing.unsubscribe();
    control.stop();
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
    events$: control.events$,
    stats$: control.stats$,
    listening,
    snapshot: control.snapshot,
    close,
  };
};
