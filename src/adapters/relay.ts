import type { Socket } from "node:net";
import type { Backend } from "../domain/backend.js";
import { formatDuration } from "../domain/duration.js";
import type { HealthEvent } from "../domain/health.js";
import type { Logger } from "../domain/logger.js";
import type { Route } from "../domain/route.js";
import { dialWithTimeout } from "./dialer.js";

export interface RelayContext {
  /** The current route, read synchronously for each dial (a cached value, not a subscription). */
  readonly currentRoute: () => Route;
  readonly connectTimeoutMs: number;
  /** Feeds connection outcomes into the health loop. */
  readonly emit: (event: HealthEvent) => void;
  readonly now: () => number;
  readonly logger: Logger;
  /** Called once per client when the relay is over and every event about it has been emitted. */
  readonly finished: (client: Socket) => void;
}

/** The first backend of the current route this client has not tried yet. */
const nextCandidate = (route: Route, tried: ReadonlyArray<number>): Backend | undefined =>
  route.find((backend) => !tried.includes(backend.index));

/**
 * Routes one accepted client: dials the route's backends in order until one connects, then
 * relays bytes both ways with Node streams (backpressure and half-close included).
 * Client bytes that arrive while dialing wait in the socket, unread, so nothing is lost.
 */
export const relayClient = (client: Socket, ctx: RelayContext): void => {
  ctx.emit({ type: "accepted", at: ctx.now() });
  const tried: number[] = [];
  let dialing: Socket | null = null;
  // Every socket gets an error listener from the start; 'close' does the clean-up.
  client.on("error", (error: Error) => {
    if (ctx.logger.debugEnabled)
      ctx.logger.debug(`Client ${peerOf(client)} error: ${error.message}`);
  });
  const onClientGone = (): void => {
    dialing?.destroy();
    ctx.finished(client);
  };
  client.once("close", onClientGone);

  const tryNext = (): void => {
    const backend = nextCandidate(ctx.currentRoute(), tried);
    if (backend === undefined) {
      client.removeListener("close", onClientGone);
      ctx.emit({ type: "no-backend", at: ctx.now() });
      client.destroy();
      ctx.finished(client);
      return;
    }
    tried.push(backend.index);
    dialing = dialWithTimeout(backend.address, ctx.connectTimeoutMs, (outcome) => {
      dialing = null;
      if (!outcome.ok) {
        // The client left while we dialed: not the backend's fault.
        if (outcome.aborted || client.destroyed) return;
        ctx.emit({
          type: "connect-failed",
          backend: backend.index,
          reason: outcome.reason,
          at: ctx.now(),
        });
        tryNext();
        return;
      }
      if (client.destroyed) {
        outcome.socket.destroy();
        return;
      }
      client.removeListener("close", onClientGone);
      ctx.emit({ type: "connected", backend: backend.index, at: ctx.now() });
      pipeBothWays(client, outcome.socket, backend, ctx);
    });
  };
  tryNext();
};

const peerOf = (socket: Socket): string =>
  `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;

// The relay path is per chunk: shared handlers that find the other socket through a symbol,
// rather than pipe() or closures per connection.
const peerKey = Symbol("relay peer");
type RelaySocket = Socket & { [peerKey]: Socket };
const peerSocket = (socket: Socket): Socket => (socket as RelaySocket)[peerKey];

function forwardData(this: Socket, chunk: Buffer): void {
  // Backpressure: stop reading until the other side has flushed.
  if (!peerSocket(this).write(chunk)) this.pause();
}
function resumePeer(this: Socket): void {
  peerSocket(this).resume();
}
function forwardEnd(this: Socket): void {
  // Half-close: the FIN goes on, the other direction stays open.
  peerSocket(this).end();
}

/**
 * Relays both ways with backpressure; with allowHalfOpen a FIN from one side ends only the
 * other side's writable half. A side that closes abnormally (error, reset, destroy) resets the
 * other at once; a clean close leaves the other to flush what it still holds.
 */
const pipeBothWays = (
  client: Socket,
  server: Socket,
  backend: Backend,
  ctx: RelayContext,
): void => {
  // Debug lines are built only when someone will read them: this is the per-connection path.
  const debug = ctx.logger.debugEnabled;
  const startedAt = debug ? ctx.now() : 0;
  const peer = debug ? peerOf(client) : "";
  if (debug) ctx.logger.debug(`Connection ${peer} -> ${backend.label} opened`);
  (client as RelaySocket)[peerKey] = server;
  (server as RelaySocket)[peerKey] = client;
  client.on("data", forwardData);
  server.on("data", forwardData);
  client.on("drain", resumePeer);
  server.on("drain", resumePeer);
  client.on("end", forwardEnd);
  server.on("end", forwardEnd);
  // A client that half-closed while we dialed has already emitted 'end': pass its FIN on now.
  if (client.readableEnded) server.end();
  let open = 2;
  const onClose = function (this: Socket): void {
    // An abnormal end is passed on as a reset, so the peer cannot take a truncated stream for a complete one.
    if (!(this.readableEnded && this.writableFinished)) peerSocket(this).resetAndDestroy();
    if (--open > 0) return;
    const at = ctx.now();
    ctx.emit({
      type: "closed",
      backend: backend.index,
      bytesIn: client.bytesRead,
      bytesOut: client.bytesWritten,
      at,
    });
    if (debug) {
      ctx.logger.debug(
        `Connection ${peer} -> ${backend.label} closed: in=${client.bytesRead} out=${client.bytesWritten} ` +
          `duration=${formatDuration(at - startedAt)}`,
      );
    }
    ctx.finished(client);
  };
  client.once("close", onClose);
  server.once("close", onClose);
};
