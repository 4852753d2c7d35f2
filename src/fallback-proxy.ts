import type { AddressInfo } from "node:net";
import type { Observable } from "rxjs";
import { makeBackends } from "./domain/backend.js";
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
  extends ProxySettings, Pick<ControlPlaneConfig, "route" | "logger" | "scheduler" | "probe"> {}

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

/** The composition root: the control plane (streams) and the data plane (sockets), wired. */
export const startFallbackProxy = (config: ProxyConfig): FallbackProxy => {
  const { logger, scheduler } = config;
  const backends = makeBackends(config.backends, config.backendLabels);
  // First, as it may refuse the route policy before anything starts.
  const control = startControlPlane({ ...config, backends });
  for (const backend of backends) logger.info(`Backend ${backend.label} added`);
  const relay = startRelayServer({
    listen: config.listen,
    connectTimeoutMs: config.connectTimeoutMs,
    currentRoute: control.currentRoute,
    isUp: control.isUp,
    emit: control.emit,
    now: () => scheduler.now(),
    logger,
  });
  const listening = relay.listening.then((address) => {
    logger.info(describeListening(address));
    return address;
  });
  listening.catch(() => control.stop());

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await relay.drain(config.drainTimeoutMs);
      logStats(logger, control.snapshot());
      control.stop();
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
