import type { AddressInfo, Server, Socket } from "node:net";
import { type Address, type Backend, formatAddress } from "../domain/backend.js";
import type { DataPlane } from "../domain/data-plane.js";
import { formatDuration } from "../domain/duration.js";
import type { HealthEvent } from "../domain/health.js";
import type { Logger } from "../domain/logger.js";
import type { Route } from "../domain/route.js";
import { SharePicker } from "../domain/share-picker.js";
import { boundAddress, listen } from "./listener.js";
import { LocalFailureLog } from "./local-failure-log.js";
import { setLongTimeout } from "./long-timeout.js";
import { type RelayContext, relayClient, relayedBackendOf } from "./relay.js";
import { TrafficTally } from "./traffic-tally.js";
import { type HeaderReaderContext, readProxyHeader } from "./proxy-header-reader.js";
import { RefusedHeaderLog } from "./refused-header-log.js";

export interface RelayServerConfig {
  readonly listen: Address;
  readonly connectTimeoutMs: number;
  /** Hedged connects after this long; undefined: off. */
  readonly hedgeMs?: number | undefined;
  /** Clients start with a PROXY protocol header, read before routing; undefined: off. */
  readonly acceptProxy?: boolean | undefined;
  /**
   * Whether a backend is up now: a connect to one that is not is health news, sent at once.
   * By default, whether it is in the route.
   */
  readonly isUp?: (backend: number) => boolean;
  readonly emit: (event: HealthEvent) => void;
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * The data plane in this process: a listener whose clients are relayed along the route last
 * set (none until then).
 */
export interface RelayServer extends DataPlane {
  readonly listening: Promise<AddressInfo>;
  relisten(address: Address): Promise<AddressInfo>;
}

export const startRelayServer = (config: RelayServerConfig): RelayServer => {
  const { logger } = config;
  let route: Route = [];
  // Each client's order of backends, picked once as it is accepted: a ramp's share of clients
  // try its first backend first. A later dial for a client (after a failed one) reads the last
  // pick: the same backends, in one order or the other, and no credit spent on it.
  const picker = new SharePicker();
  let order: ReadonlyArray<Backend> = route;
  // Clients from accept until their relay is over: what a graceful shutdown waits for.
  const live = new Set<Socket>();
  let onIdle: (() => void) | null = null;
  const tally = new TrafficTally(
    config.emit,
    config.now,
    config.isUp ?? ((backend) => route.some((b) => b.index === backend)),
  );
  const localFailures = new LocalFailureLog(logger);
  const context: RelayContext = {
    currentRoute: () => order,
    connectTimeoutMs: config.connectTimeoutMs,
    hedgeMs: config.hedgeMs,
    emit: tally.emit,
    now: config.now,
    logger,
    localFailures,
    finished: (client) => {
      live.delete(client);
      if (live.size === 0) onIdle?.();
    },
  };
  const finished = context.finished;
  const refusals = new RefusedHeaderLog(logger);
  const headerContext: HeaderReaderContext = {
    timeoutMs: config.connectTimeoutMs,
    refusals,
    accepted: (client, addresses) => {
      order = picker.next();
      relayClient(client, context, addresses);
    },
    refused: finished,
  };
  const onClient =
    config.acceptProxy === true
      ? (socket: Socket): void => {
          live.add(socket);
          readProxyHeader(socket, headerContext);
        }
      : (socket: Socket): void => {
          live.add(socket);
          order = picker.next();
          relayClient(socket, context);
        };

  let server: Server | null = null;
  const bind = (address: Address): Promise<Server> =>
    listen(address, onClient).then((bound) => {
      // After bind, accept errors (e.g. out of file descriptors) are logged; the proxy goes on.
      bound.on("error", (error: Error) => logger.error(`Accept failed: ${error.message}`));
      return bound;
    });
  const listening = bind(config.listen).then((bound) => {
    server = bound;
    return boundAddress(bound);
  });

  // The new listener first: clients are accepted all along; the old one's live clients go on.
  const relisten = async (address: Address): Promise<AddressInfo> => {
    await listening;
    const next = await bind(address);
    const previous = server;
    server = next;
    previous?.close();
    return boundAddress(next);
  };

  const drain = async (timeoutMs: number): Promise<void> => {
    await listening.catch(() => undefined);
    const bound = server as Server | null;
    const stopped =
      bound === null ? Promise.resolve() : new Promise<void>((r) => bound.close(() => r()));
    if (live.size > 0) {
      logger.info(`Draining ${live.size} connection(s) for up to ${formatDuration(timeoutMs)}`);
      await new Promise<void>((resolve) => {
        const cancel = setLongTimeout(() => {
          // Out of time: closing the clients makes their relays close the backend side too.
          for (const client of live) client.destroy();
        }, timeoutMs);
        onIdle = () => {
          cancel();
          resolve();
        };
      });
    }
    await stopped;
    // Final stats must count every connection.
    tally.flush();
    localFailures.flush();
    refusals.flush();
  };

  // Once per order, not per connection: a walk over the live clients is cheap enough.
  const closeSessions = (backend: number): number => {
    let closed = 0;
    let label = `#${backend}`;
    for (const client of live) {
      const relayed = relayedBackendOf(client);
      if (relayed?.index !== backend) continue;
      label = relayed.label;
      // A reset, as for any abnormal end: the relay passes it on to the backend side too.
      client.resetAndDestroy();
      closed++;
    }
    if (logger.debugEnabled) logger.debug(`Closed ${closed} connection(s) to backend ${label}`);
    return closed;
  };

  return {
    listening,
    setRoute: (next) => {
      route = next;
      picker.set(next);
      order = next;
    },
    drain,
    closeSessions,
    relisten,
  };
};

export const describeListening = (address: AddressInfo): string =>
  `Listening on ${formatAddress({ host: address.address, port: address.port })}`;
