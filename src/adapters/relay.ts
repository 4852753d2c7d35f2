import type { Socket } from "node:net";
import { type Backend, formatAddress } from "../domain/backend.js";
import { formatDuration } from "../domain/duration.js";
import type { HealthEvent } from "../domain/health.js";
import { type DialState, hedgeDecision } from "../domain/hedge.js";
import type { Logger } from "../domain/logger.js";
import type { Route } from "../domain/route.js";
import { MAX_TIMER_DELAY_MS } from "../domain/timer-limit.js";
import {
  type ProxiedAddresses,
  type ProxyProtocolVersion,
  encodeProxyHeader,
  headerFor,
} from "../domain/proxy-protocol.js";
import { type DialOutcome, dialWithTimeout } from "./dialer.js";
import type { LocalFailureLog } from "./local-failure-log.js";

export interface RelayContext {
  /** The current route, read synchronously for each dial (a cached value, not a subscription). */
  readonly currentRoute: () => Route;
  readonly connectTimeoutMs: number;
  /**
   * Hedged connects: a dial not completed after this long has the next backend dialed too, and
   * the first to connect takes the client. Undefined: off, one dial at a time.
   */
  readonly hedgeMs?: number | undefined;
  /** Feeds connection outcomes into the health loop. */
  readonly emit: (event: HealthEvent) => void;
  readonly now: () => number;
  readonly logger: Logger;
  /** Where dials that failed for a local reason are logged, without a line per client. */
  readonly localFailures: Pick<LocalFailureLog, "record">;
  /** Called once per client when the relay is over and every event about it has been emitted. */
  readonly finished: (client: Socket) => void;
  /** TCP keepalive on both sockets, first probe after this long idle; undefined: off. */
  readonly keepaliveMs?: number | undefined;
  /**
   * Live connections per backend index, counted from the dial to the close; null while no
   * backend has a `maxconn` (nothing is counted then). Backends at their limit are skipped.
   */
  load: number[] | null;
  /** Told each time a new client skips a backend at its `maxconn` (logs it, suppressing repeats). */
  readonly backendFull: (backend: Backend) => void;
}

// This is the per-connection and per-chunk path. Each connection is one Relay object; socket
// events go to shared handlers that find it through a symbol, so no closures are allocated
// per connection or per chunk, and an idle connection holds as little as possible.
const relayKey = Symbol("relay");
const backendReadBuffer = Buffer.allocUnsafe(64 * 1024);
type RelaySocket = Socket & { [relayKey]: Relay };
const relayOf = (socket: Socket): Relay => (socket as RelaySocket)[relayKey];

/** A client's two dials while hedging: only with a hedge delay, and only until one is chosen. */
class Hedge {
  /** Fires once the first dial has taken the hedge delay: the next backend is dialed too. */
  timer: NodeJS.Timeout | null = null;
  /** The end of the turn in which the second dial connected: the first may still win until then. */
  turn: NodeJS.Immediate | null = null;
  /** The first dial's socket is the relay's `dialing`, its backend the relay's `backend`. */
  first: DialState = "pending";
  second: DialState = "none";
  /** The second dial, pending or connected (and paused, unread) until it is chosen or closed. */
  secondDial: Socket | null = null;
  secondBackend: Backend | null = null;
}

class Relay {
  server: Socket | null = null;
  backend: Backend | null = null;
  dialing: Socket | null = null;
  /** Only with a hedge delay, while dialing. */
  hedge: Hedge | null = null;
  /** Indices of the backends this client has tried. */
  readonly tried: number[] = [];
  /** Sockets still open once relaying. */
  open = 2;
  startedAt = 0;
  peer = "";
  /**
   * Set by every chunk either way; the limits sweep clears it (a plain store per chunk). Set at
   * first: a connection is idle from its first sweep on, not before.
   */
  active = true;
  /** Sweeps in a row that found no chunk (for -idle-timeout). */
  quiet = 0;
  /** Sweeps since the first FIN (for -fin-timeout); -1 before any. */
  fin = -1;
  /** The backend index whose slot in `ctx.load` this client holds; -1: none. */
  holding = -1;

  constructor(
    readonly client: Socket,
    readonly ctx: RelayContext,
    /** What the client's PROXY protocol header said; null: the socket's own addresses. */
    readonly proxied: ProxiedAddresses | null,
  ) {}

  /** Dials the first backend of the current route this client has not tried yet. */
  tryNext(): void {
    const { ctx, client, tried } = this;
    this.release();
    const backend = this.nextBackend();
    if (backend === undefined) {
      client.removeListener("close", onClientGoneWhileDialing);
      ctx.emit({ type: "no-backend", at: ctx.now() });
      client.destroy();
      ctx.finished(client);
      return;
    }
    tried.push(backend.index);
    this.backend = backend;
    if (ctx.load !== null) this.hold(ctx.load, backend.index);
    if (ctx.hedgeMs !== undefined) {
      this.dialHedged(backend, ctx.hedgeMs);
      return;
    }
    this.dialing = dialWithTimeout(
      backend.address,
      ctx.connectTimeoutMs,
      (outcome) => this.dialed(outcome),
      { buffer: backendReadBuffer, callback: (bytes, buffer) => this.fromBackend(bytes, buffer) },
    );
  }

  /** The route's first backend this client has not tried (with room, where limits are on). */
  nextBackend(): Backend | undefined {
    const { ctx, tried } = this;
    return ctx.load === null
      ? ctx.currentRoute().find((b) => !tried.includes(b.index))
      : this.nextWithRoom(ctx.load);
  }

  /** The next untried backend with room; one at its `maxconn` is skipped, and counts as tried. */
  nextWithRoom(load: number[]): Backend | undefined {
    const { ctx, tried } = this;
    for (const b of ctx.currentRoute()) {
      if (tried.includes(b.index)) continue;
      if (b.maxconn !== undefined && (load[b.index] ?? 0) >= b.maxconn) {
        tried.push(b.index);
        ctx.emit({
          type: "limited",
          reason: "backend-full",
          backend: b.index,
          count: 1,
          at: ctx.now(),
        });
        ctx.backendFull(b);
        continue;
      }
      return b;
    }
    return undefined;
  }

  /** Takes a slot of this backend's `maxconn` until the dial fails or the relay is over. */
  hold(load: number[], index: number): void {
    load[index] = (load[index] ?? 0) + 1;
    this.holding = index;
  }

  /** Gives back the slot this client holds, if any. */
  release(): void {
    if (this.holding < 0) return;
    const load = this.ctx.load;
    if (load !== null) load[this.holding] = (load[this.holding] ?? 1) - 1;
    this.holding = -1;
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
    this.release();
    ctx.emit({ type: "refused-locally", count: 1, reason, at: ctx.now() });
    ctx.localFailures.record((this.backend as Backend).label, reason);
    client.destroy();
    ctx.finished(client);
  }

  // ----- hedged dials (only with ctx.hedgeMs)

  /** Dials `backend` as the first of a possible pair; the hedge timer may add a second. */
  dialHedged(backend: Backend, hedgeMs: number): void {
    const hedge = (this.hedge ??= new Hedge());
    hedge.first = "pending";
    hedge.second = "none";
    hedge.secondDial = null;
    hedge.secondBackend = null;
    this.dialing = dialWithTimeout(
      backend.address,
      this.ctx.connectTimeoutMs,
      (outcome) => this.firstDialed(outcome),
      { buffer: backendReadBuffer, callback: (bytes, buffer) => this.fromBackend(bytes, buffer) },
    );
    hedge.timer = setTimeout(onHedgeTimer, Math.min(hedgeMs, MAX_TIMER_DELAY_MS), this);
  }

  /** The first dial has taken the hedge delay: the next backend not tried yet is dialed too. */
  hedgeTimerFired(): void {
    const { ctx, client, tried } = this;
    const hedge = this.hedge;
    if (hedge === null || client.destroyed) return;
    hedge.timer = null;
    const backend = this.nextBackend();
    if (backend === undefined) return;
    tried.push(backend.index);
    if (ctx.logger.debugEnabled)
      ctx.logger.debug(
        `Connect to ${this.backend?.label} not done after ${formatDuration(ctx.hedgeMs ?? 0)}: ` +
          `dialing ${backend.label} as well`,
      );
    hedge.second = "pending";
    hedge.secondBackend = backend;
    hedge.secondDial = dialWithTimeout(
      backend.address,
      ctx.connectTimeoutMs,
      (outcome) => this.secondDialed(outcome),
      { buffer: backendReadBuffer, callback: (bytes, buffer) => this.fromBackend(bytes, buffer) },
    );
  }

  firstDialed(outcome: DialOutcome): void {
    const { ctx, client } = this;
    const hedge = this.hedge;
    // Abandoned because the second dial won, or the client left (its 'close' stops the rest):
    // no verdict on the backend.
    if (hedge === null || client.destroyed || (!outcome.ok && outcome.aborted)) {
      if (outcome.ok) outcome.socket.destroy();
      return;
    }
    this.dialing = null;
    if (hedge.timer !== null) {
      clearTimeout(hedge.timer);
      hedge.timer = null;
    }
    if (outcome.ok) {
      hedge.first = "connected";
      this.settleHedge(false, outcome.socket);
      return;
    }
    hedge.first = "failed";
    if (outcome.local) {
      // A second dial under way may still serve the client; else nobody can.
      if (hedge.second !== "pending" && hedge.second !== "connected") {
        this.endHedge();
        this.refuseLocally(outcome.reason);
        return;
      }
    } else {
      ctx.emit({
        type: "connect-failed",
        backend: (this.backend as Backend).index,
        reason: outcome.reason,
        at: ctx.now(),
      });
    }
    this.settleHedge(false, null);
  }

  secondDialed(outcome: DialOutcome): void {
    const { ctx, client } = this;
    const hedge = this.hedge;
    // Closed because the first dial won, or the client left: no verdict on the backend.
    if (hedge === null || client.destroyed || (!outcome.ok && outcome.aborted)) {
      if (outcome.ok) outcome.socket.destroy();
      return;
    }
    if (outcome.ok) {
      // Unread until chosen: nothing of a backend that loses reaches the client.
      outcome.socket.pause();
      hedge.second = "connected";
      hedge.secondDial = outcome.socket;
      if (hedgeDecision(hedge.first, hedge.second, false) === "wait") {
        hedge.turn = setImmediate(onHedgeTurnOver, this);
        return;
      }
      this.settleHedge(false, null);
      return;
    }
    hedge.second = "failed";
    hedge.secondDial = null;
    const backend = hedge.secondBackend as Backend;
    if (outcome.local) {
      if (hedge.first === "failed") {
        this.endHedge();
        this.backend = backend;
        this.refuseLocally(outcome.reason);
        return;
      }
    } else {
      ctx.emit({
        type: "connect-failed",
        backend: backend.index,
        reason: outcome.reason,
        at: ctx.now(),
      });
    }
    this.settleHedge(false, null);
  }

  /** Acts on the decision; `first` is the first dial's socket if it has just connected. */
  settleHedge(turnOver: boolean, first: Socket | null): void {
    const hedge = this.hedge as Hedge;
    switch (hedgeDecision(hedge.first, hedge.second, turnOver)) {
      case "first":
        // A second dial still open, connected or not, is closed and says nothing about its backend.
        hedge.secondDial?.destroy();
        this.endHedge();
        this.hedgedConnected(first as Socket);
        return;
      case "second": {
        const server = hedge.secondDial as Socket;
        if (this.dialing !== null) {
          // The first dial is abandoned, not failed: its backend is not blamed for being slow.
          if (this.ctx.logger.debugEnabled)
            this.ctx.logger.debug(
              `Connect to ${this.backend?.label} abandoned: ${hedge.secondBackend?.label} answered first`,
            );
          this.dialing.destroy();
          this.dialing = null;
        }
        this.backend = hedge.secondBackend;
        // The slot moves to the backend that took the client.
        if (this.holding >= 0 && this.ctx.load !== null) {
          this.release();
          this.hold(this.ctx.load, (this.backend as Backend).index);
        }
        this.endHedge();
        this.hedgedConnected(server);
        return;
      }
      case "next":
        this.tryNext();
        return;
      case "wait":
        return;
    }
  }

  /** The hedge is over: its timers stop and the relay drops it. */
  endHedge(): void {
    const hedge = this.hedge as Hedge;
    if (hedge.timer !== null) clearTimeout(hedge.timer);
    if (hedge.turn !== null) clearImmediate(hedge.turn);
    this.hedge = null;
  }

  /** The client left while dialing: both dials are closed, the timers stopped. */
  dropHedge(): void {
    this.hedge?.secondDial?.destroy();
    this.endHedge();
  }

  hedgedConnected(server: Socket): void {
    const { ctx, client } = this;
    client.removeListener("close", onClientGoneWhileDialing);
    ctx.emit({ type: "connected", backend: (this.backend as Backend).index, at: ctx.now() });
    this.relay(server);
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
    // Written before the client's first byte is read: nothing of the client's can go ahead of it.
    const sendProxy = (this.backend as Backend).sendProxy;
    if (sendProxy !== undefined) server.write(this.proxyHeader(sendProxy));
    if (ctx.logger.debugEnabled) {
      // Debug lines are built only when someone will read them.
      this.startedAt = ctx.now();
      this.peer = clientPeerOf(this);
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
    if (ctx.keepaliveMs !== undefined) {
      client.setKeepAlive(true, ctx.keepaliveMs);
      server.setKeepAlive(true, ctx.keepaliveMs);
    }
    // A client that half-closed while we dialed has already emitted 'end': pass its FIN on now.
    if (client.readableEnded) server.end();
  }

  /**
   * Backend bytes skip the Readable stream: they are read into one buffer shared by every
   * connection and copied out at once (the write may outlive this call), then written.
   */
  fromBackend(bytes: number, buffer: Buffer): boolean {
    this.active = true;
    const chunk = Buffer.allocUnsafe(bytes);
    buffer.copy(chunk, 0, 0, bytes);
    return this.client.write(chunk);
  }

  /**
   * The client as its own header described it (origin and destination), or else as this
   * proxy sees it: from the client's address to the one it connected to.
   */
  proxyHeader(version: ProxyProtocolVersion): Buffer {
    const { client, proxied } = this;
    return encodeProxyHeader(
      version,
      proxied !== null
        ? { kind: "proxy", addresses: proxied }
        : headerFor(
            { address: client.remoteAddress, port: client.remotePort },
            { address: client.localAddress, port: client.localPort },
          ),
    );
  }

  /** The other socket of this relay. */
  otherSide(socket: Socket): Socket {
    return (socket === this.client ? this.server : this.client) as Socket;
  }

  /** A timeout ended the connection: both sides are closed (with a FIN each), and it is counted. */
  timedOut(reason: "idle-timeout" | "fin-timeout"): void {
    const { ctx, client } = this;
    const backend = this.backend as Backend;
    ctx.emit({ type: "limited", reason, backend: backend.index, count: 1, at: ctx.now() });
    if (ctx.logger.debugEnabled)
      ctx.logger.debug(`Connection ${peerOf(client)} -> ${backend.label} closed: ${reason}`);
    client.destroy();
    this.server?.destroy();
  }

  /** Both sockets are closed: account for the connection. */
  closed(): void {
    const { client, ctx } = this;
    const backend = this.backend as Backend;
    const at = ctx.now();
    this.release();
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

/** The client's address for log lines: the one its PROXY protocol header gave, if any. */
const clientPeerOf = ({ client, proxied }: Relay): string =>
  proxied === null
    ? peerOf(client)
    : formatAddress({ host: proxied.sourceAddress, port: proxied.sourcePort });

// Errors are followed by 'close', which does the clean-up; here they are only reported.
function onSocketError(this: Socket, error: Error): void {
  const { ctx, client } = relayOf(this);
  if (ctx.logger.debugEnabled) {
    const side =
      this === client
        ? `Client ${clientPeerOf(relayOf(this))}`
        : `Backend ${relayOf(this).backend?.label}`;
    ctx.logger.debug(`${side} error: ${error.message}`);
  }
}

function onClientGoneWhileDialing(this: Socket): void {
  const relay = relayOf(this);
  relay.release();
  relay.dialing?.destroy();
  if (relay.hedge !== null) relay.dropHedge();
  relay.ctx.finished(this);
}

// Hedge timers get the relay as an argument: no closure per connection.
function onHedgeTimer(relay: Relay): void {
  relay.hedgeTimerFired();
}

function onHedgeTurnOver(relay: Relay): void {
  const hedge = relay.hedge;
  if (hedge === null) return;
  hedge.turn = null;
  relay.settleHedge(true, null);
}

function forwardData(this: Socket, chunk: Buffer): void {
  const relay = relayOf(this);
  relay.active = true;
  // Backpressure: stop reading until the other side has flushed.
  if (!relay.otherSide(this).write(chunk)) this.pause();
}

function resumePeer(this: Socket): void {
  relayOf(this).otherSide(this).resume();
}

function forwardEnd(this: Socket): void {
  const relay = relayOf(this);
  // The -fin-timeout clock starts at the first FIN.
  if (relay.fin < 0) relay.fin = 0;
  // Half-close: the FIN goes on, the other direction stays open.
  relay.otherSide(this).end();
}

function onRelayedClose(this: Socket): void {
  const relay = relayOf(this);
  // An abnormal end is passed on as a reset, so the peer cannot take a truncated stream for a
  // complete one; a clean close leaves the other side to flush what it still holds.
  if (!(this.readableEnded && this.writableFinished)) relay.otherSide(this).resetAndDestroy();
  if (--relay.open === 0) relay.closed();
}

/** How the limits sweep judges a connection: sweeps in a row that end it; 0: that limit is off. */
export interface SweepLimits {
  readonly idleSweeps: number;
  readonly finSweeps: number;
}

/**
 * One sweep of the idle and FIN timeouts over these clients' relays: a connection with no
 * chunk either way for `idleSweeps` sweeps in a row, or `finSweeps` sweeps after its first
 * FIN, has both sockets closed. Each act is emitted as a "limited" event.
 */
export const sweepRelays = (clients: Iterable<Socket>, limits: SweepLimits): void => {
  for (const client of clients) {
    const relay = relayOf(client);
    const { server } = relay;
    // Still dialing, or already closing: nothing to time out.
    if (server === null || client.destroyed || server.destroyed) continue;
    if (limits.idleSweeps > 0) {
      if (relay.active) {
        relay.active = false;
        relay.quiet = 0;
      } else if (++relay.quiet >= limits.idleSweeps) {
        relay.timedOut("idle-timeout");
        continue;
      }
    }
    if (limits.finSweeps > 0 && relay.fin >= 0 && ++relay.fin > limits.finSweeps)
      relay.timedOut("fin-timeout");
  }
};

/**
 * The backend a client's connection is relayed to; null while it is still dialing, or not yet
 * routed at all (still sending its PROXY protocol header).
 */
export const relayedBackendOf = (client: Socket): Backend | null => {
  const relay = (client as Partial<RelaySocket>)[relayKey];
  return relay === undefined || relay.server === null ? null : relay.backend;
};

/**
 * Routes one accepted client: dials the route's backends in order until one connects, then
 * relays bytes both ways. Client bytes that arrive while dialing wait in the socket, unread,
 * so nothing is lost or reordered. `proxied`: what the client's PROXY protocol header said.
 */
export const relayClient = (
  client: Socket,
  ctx: RelayContext,
  proxied: ProxiedAddresses | null = null,
): void => {
  ctx.emit({ type: "accepted", at: ctx.now() });
  const relay = new Relay(client, ctx, proxied);
  (client as RelaySocket)[relayKey] = relay;
  // Every socket gets an error listener from the start.
  client.on("error", onSocketError);
  client.once("close", onClientGoneWhileDialing);
  relay.tryNext();
};
