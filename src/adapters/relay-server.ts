import type { AddressInfo, Server, Socket } from "node:net";
import { type Address, type Backend, formatAddress } from "../domain/backend.js";
import type { DataPlane } from "../domain/data-plane.js";
import { formatDuration } from "../domain/duration.js";
import type { HealthEvent } from "../domain/health.js";
import type { Logger } from "../domain/logger.js";
import type { Route } from "../domain/route.js";
import { SharePicker } from "../domain/share-picker.js";
import { sweepPlan } from "../domain/limits.js";
import { LimitLog } from "./limit-log.js";
import {
  boundAddress,
  canPauseAccepting,
  listen,
  pauseAccepting,
  resumeAccepting,
} from "./listener.js";
import { LocalFailureLog } from "./local-failure-log.js";
import { setLongTimeout } from "./long-timeout.js";
import { type RelayContext, relayClient, relayedBackendOf, sweepRelays } from "./relay.js";
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
  /** Live clients at most: at the limit accepting pauses, below it resumes. Undefined: off. */
  readonly maxconn?: number | undefined;
  /** A connection idle both ways this long is closed; undefined: off. */
  readonly idleTimeoutMs?: number | undefined;
  /** TCP keepalive on both sockets; undefined: off. */
  readonly keepaliveMs?: number | undefined;
  /** A connection lives at most this long after its first FIN; undefined: off. */
  readonly finTimeoutMs?: number | undefined;
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
  const limitLog = new LimitLog(logger);
  const { maxconn } = config;
  let server: Server | null = null;
  // With -maxconn: whether accepting is paused now; where the listener cannot pause, clients
  // accepted over the limit wait here, unread, until a slot frees.
  let paused = false;
  let pausable = false;
  const waiting = new Set<Socket>();
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
      if (maxconn !== undefined && live.size < maxconn) belowLimit();
      if (live.size === 0) onIdle?.();
    },
    keepaliveMs: config.keepaliveMs,
    load: null,
    backendFull: (backend) => limitLog.backendFull(backend),
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
  const serve =
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

  const onClient =
    maxconn === undefined
      ? serve
      : (socket: Socket): void => {
          if (live.size >= maxconn) {
            // Only where the listener cannot pause: the client waits, unread and unreset.
            waiting.add(socket);
            socket.on("error", ignoreError);
            socket.once("close", onWaitingClose);
            return;
          }
          serve(socket);
          if (live.size >= maxconn) atLimit();
        };
  function onWaitingClose(this: Socket): void {
    waiting.delete(this);
  }
  const atLimit = (): void => {
    if (paused) return;
    paused = true;
    config.emit({ type: "limited", reason: "accept-paused", count: 1, at: config.now() });
    limitLog.acceptPaused(maxconn ?? 0);
    if (pausable && server !== null) pauseAccepting(server);
  };
  const belowLimit = (): void => {
    for (const socket of waiting) {
      waiting.delete(socket);
      socket.removeListener("error", ignoreError);
      socket.removeListener("close", onWaitingClose);
      if (socket.destroyed) continue;
      serve(socket);
      if (maxconn !== undefined && live.size >= maxconn) return;
    }
    if (!paused) return;
    paused = false;
    if (logger.debugEnabled) logger.debug("Accepting resumed below -maxconn");
    if (pausable && server !== null) resumeAccepting(server);
  };

  const plan = sweepPlan(config.idleTimeoutMs, config.finTimeoutMs);
  const sweep =
    plan === null ? null : setInterval(() => sweepRelays(live, plan), plan.periodMs).unref();

  const bind = (address: Address): Promise<Server> =>
    listen(address, onClient).then((bound) => {
      // After bind, accept errors (e.g. out of file descriptors) are logged; the proxy goes on.
      bound.on("error", (error: Error) => logger.error(`Accept failed: ${error.message}`));
      return bound;
    });
  const listening = bind(config.listen).then((bound) => {
    server = bound;
    if (maxconn !== undefined) pausable = canPauseAccepting(bound);
    return boundAddress(bound);
  });

  // The new listener first: clients are accepted all along; the old one's live clients go on.
  const relisten = async (address: Address): Promise<AddressInfo> => {
    await listening;
    const next = await bind(address);
    const previous = server;
    server = next;
    if (maxconn !== undefined) {
      pausable = canPauseAccepting(next);
      if (paused && pausable) pauseAccepting(next);
    }
    previous?.close();
    return boundAddress(next);
  };

  const drain = async (timeoutMs: number): Promise<void> => {
    await listening.catch(() => undefined);
    const bound = server as Server | null;
    const stopped =
      bound === null ? Promise.resolve() : new Promise<void>((r) => bound.close(() => r()));
    // Clients still waiting for a slot were never served: they are closed.
    for (const socket of waiting) socket.destroy();
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
    if (sweep !== null) clearInterval(sweep);
    // Final stats must count every connection.
    tally.flush();
    localFailures.flush();
    refusals.flush();
    limitLog.flush();
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
      // Live connections per backend are counted from the first route with a limit on.
      if (context.load === null && next.some((b) => b.maxconn !== undefined)) context.load = [];
      picker.set(next);
      order = next;
    },
    drain,
    closeSessions,
    relisten,
  };
};

const ignoreError = (): void => undefined;

export const describeListening = (address: AddressInfo): string =>
  `Listening on ${formatAddress({ host: address.address, port: address.port })}`;
