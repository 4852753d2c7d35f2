import type { Socket } from "node:net";
import type { Backend } from "../domain/backend.js";
import { formatDuration } from "../domain/duration.js";
import type { HealthEvent } from "../domain/health.js";
import type { Logger } from "../domain/logger.js";
import type { Route } from "../domain/route.js";
import { type DialOutcome, dialWithTimeout } from "./dialer.js";
import type { LocalFailureLog } from "./local-failure-log.js";

export interface RelayContext {
  /** The current route, read synchronously for each dial (a cached value, not a subscription). */
  readonly currentRoute: () => Route;
  readonly connectTimeoutMs: number;
  /** Feeds connection outcomes into the health loop. */
  readonly emit: (event: HealthEvent) => void;
  readonly now: () => number;
  readonly logger: Logger;
  /** Where dials that failed for a local reason are logged, without a line per client. */
  readonly localFailures: Pick<LocalFailureLog, "record">;
  /** Called once per client when the relay is over and every event about it has been emitted. */
  readonly finished: (client: Socket) => void;
}

// This is the per-connection and per-chunk path. Each connection is one Relay object; socket
// events go to shared handlers that find it through a symbol, so no closures are allocated
// per connection or per chunk, and an idle connection holds as little as possible.
const relayKey = Symbol("relay");
const backendReadBuffer = Buffer.allocUnsafe(64 * 1024);
type RelaySocket = Socket & { [relayKey]: Relay };
const relayOf = (socket: Socket): Relay => (socket as RelaySocket)[relayKey];

class Relay {
  server: Socket | null = null;
  backend: Backend | null = null;
  dialing: Socket | null = null;
  /** Indices of the backends this client has tried. */
  readonly tried: number[] = [];
  /** Sockets still open once relaying. */
  open = 2;
  startedAt = 0;
  peer = "";

  constructor(
    readonly client: Socket,
    readonly ctx: RelayContext,
  ) {}

  /** Dials the first backend of the current route this client has not tried yet. */
  tryNext(): void {
    const { ctx, client, tried } = this;
    const backend = ctx.currentRoute().find((b) => !tried.includes(b.index));
    if (backend === undefined) {
      client.removeListener("close", onClientGoneWhileDialing);
      ctx.emit({ type: "no-backend", at: ctx.now() });
      client.destroy();
      ctx.finished(client);
      return;
    }
    tried.push(backend.index);
    this.backend = backend;
    this.dialing = dialWithTimeout(
      backend.address,
      ctx.connectTimeoutMs,
      (outcome) => this.dialed(outcome),
      { buffer: backendReadBuffer, callback: (bytes, buffer) => this.fromBackend(bytes, buffer) },
    );
  }

  dialed(outcome: DialOutcome): void {
    const { ctx, client } = this;
    const backend = this.backend as Backend;
    this.dialing = null;
    if (!outcome.ok) {
      // The client left while we dialed: not the backend's fault.
      if (outcome.aborted || client.destroyed) return;
      if (outcome.local) {
        this.refuseLocally(outcome.reason);
        return;
      }
      ctx.emit({
        type: "connect-failed",
        backend: backend.index,
        reason: outcome.reason,
        at: ctx.now(),
      });
      this.tryNext();
      return;
    }
    const server = outcome.socket;
    if (client.destroyed) {
      server.destroy();
      return;
    }
    client.removeListener("close", onClientGoneWhileDialing);
    ctx.emit({ type: "connected", backend: backend.index, at: ctx.now() });
    this.relay(server);
  }

  /**
   * This host is short of descriptors (or ports, buffers): no backend is to blame, and the next
   * one would fail the same way. The client is closed; health stays as it is.
   */
  refuseLocally(reason: string): void {
    const { ctx, client } = this;
    client.removeListener("close", onClientGoneWhileDialing);
    ctx.emit({ type: "refused-locally", count: 1, reason, at: ctx.now() });
    ctx.localFailures.record((this.backend as Backend).label, reason);
    client.destroy();
    ctx.finished(client);
  }

  /**
   * Relays both ways with backpressure; with allowHalfOpen a FIN from one side ends only the
   * other side's writable half.
   */
  relay(server: Socket): void {
    const { client, ctx } = this;
    this.server = server;
    (server as RelaySocket)[relayKey] = this;
    server.on("error", onSocketError);
    if (ctx.logger.debugEnabled) {
      // Debug lines are built only when someone will read them.
      this.startedAt = ctx.now();
      this.peer = peerOf(client);
      ctx.logger.debug(`Connection ${this.peer} -> ${this.backend?.label} opened`);
    }
    client.on("data", forwardData);
    // Flowing mode lets the backend's EOF come out as 'end'; its bytes arrive in fromBackend.
    server.resume();
    client.on("drain", resumePeer);
    server.on("drain", resumePeer);
    client.on("end", forwardEnd);
    server.on("end", forwardEnd);
    client.once("close", onRelayedClose);
    server.once("close", onRelayedClose);
    // A client that half-closed while we dialed has already emitted 'end': pass its FIN on now.
    if (client.readableEnded) server.end();
  }

  /**
   * Backend bytes skip the Readable stream: they are read into one buffer shared by every
   * connection and copied out at once (the write may outlive this call), then written.
   */
  fromBackend(bytes: number, buffer: Buffer): boolean {
    const chunk = Buffer.allocUnsafe(bytes);
    buffer.copy(chunk, 0, 0, bytes);
    return this.client.write(chunk);
  }

  /** The other socket of this relay. */
  otherSide(socket: Socket): Socket {
    return (socket === this.client ? this.server : this.client) as Socket;
  }

  /** Both sockets are closed: account for the connection. */
  closed(): void {
    const { client, ctx } = this;
    const backend = this.backend as Backend;
    const at = ctx.now();
    ctx.emit({
      type: "closed",
      backend: backend.index,
      bytesIn: client.bytesRead,
      bytesOut: client.bytesWritten,
      at,
    });
    if (ctx.logger.debugEnabled) {
      ctx.logger.debug(
        `Connection ${this.peer} -> ${backend.label} closed: in=${client.bytesRead} ` +
          `out=${client.bytesWritten} duration=${formatDuration(at - this.startedAt)}`,
      );
    }
    ctx.finished(client);
  }
}

const peerOf = (socket: Socket): string =>
  `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`;

// Errors are followed by 'close', which does the clean-up; here they are only reported.
function onSocketError(this: Socket, error: Error): void {
  const { ctx, client } = relayOf(this);
  if (ctx.logger.debugEnabled) {
    const side =
      this === client ? `Client ${peerOf(client)}` : `Backend ${relayOf(this).backend?.label}`;
    ctx.logger.debug(`${side} error: ${error.message}`);
  }
}

function onClientGoneWhileDialing(this: Socket): void {
  const relay = relayOf(this);
  relay.dialing?.destroy();
  relay.ctx.finished(this);
}

function forwardData(this: Socket, chunk: Buffer): void {
  // Backpressure: stop reading until the other side has flushed.
  if (!relayOf(this).otherSide(this).write(chunk)) this.pause();
}

function resumePeer(this: Socket): void {
  relayOf(this).otherSide(this).resume();
}

function forwardEnd(this: Socket): void {
  // Half-close: the FIN goes on, the other direction stays open.
  relayOf(this).otherSide(this).end();
}

function onRelayedClose(this: Socket): void {
  const relay = relayOf(this);
  // An abnormal end is passed on as a reset, so the peer cannot take a truncated stream for a
  // complete one; a clean close leaves the other side to flush what it still holds.
  if (!(this.readableEnded && this.writableFinished)) relay.otherSide(this).resetAndDestroy();
  if (--relay.open === 0) relay.closed();
}

/** The backend a client's connection is relayed to; null while it is still dialing. */
export const relayedBackendOf = (client: Socket): Backend | null => {
  const relay = relayOf(client);
  return relay.server === null ? null : relay.backend;
};

/**
 * Routes one accepted client: dials the route's backends in order until one connects, then
 * relays bytes both ways. Client bytes that arrive while dialing wait in the socket, unread,
 * so nothing is lost or reordered.
 */
export const relayClient = (client: Socket, ctx: RelayContext): void => {
  ctx.emit({ type: "accepted", at: ctx.now() });
  const relay = new Relay(client, ctx);
  (client as RelaySocket)[relayKey] = relay;
  // Every socket gets an error listener from the start.
  client.on("error", onSocketError);
  client.once("close", onClientGoneWhileDialing);
  relay.tryNext();
};
