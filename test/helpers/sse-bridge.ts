/**
 * A stand-in for the admin server's `GET /events`, for the status page test until the real one
 * exists (then delete this file): a proxy's health$, route$ and events$ written as Server-Sent
 * Events in the admin contract's format. First `event: state` with the `/status` JSON, again
 * whenever health or the route changes (at most every `stateEveryMs`), and one message per
 * proxy event, named by its type.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Subscription, asyncScheduler, combineLatest, throttleTime } from "rxjs";
import {
  type BackendHealth,
  type FallbackProxy,
  type HealthState,
  type ProxyEvent,
  type Route,
  downtimeAt,
} from "../../src/index.js";

export interface SseBridgeOptions {
  readonly version: string;
  /** The proxy's listen address, as shown. */
  readonly listen: string;
  readonly startedAt: number;
  readonly stateEveryMs?: number;
}

export interface SseBridge {
  /** Serves `GET /events` and returns true; false for anything else. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Clients connected now. */
  clients(): number;
  /** Ends every client's stream. */
  close(): void;
}

const stateName = (b: BackendHealth): string => b.status.kind;

/** The `/status` JSON of the contract, from the proxy's latest health and route. */
export const statusOf = (
  health: HealthState,
  route: Route,
  options: SseBridgeOptions,
  now: number,
): object => ({
  version: options.version,
  uptimeMs: now - options.startedAt,
  listen: options.listen,
  route: route.map((backend) => backend.id),
  ...(route.share === undefined ? {} : { share: route.share }),
  backends: health.backends.map((b) => ({
    id: b.backend.id,
    address: b.backend.label,
    index: b.backend.index,
    state: stateName(b),
    since: new Date((b.up ? b.upSince : b.downSince) ?? options.startedAt).toISOString(),
    downtimeMs: downtimeAt(b, now),
    requests: b.requests,
    errors: b.errors,
    bytesIn: b.bytesIn,
    bytesOut: b.bytesOut,
    active: b.active,
  })),
});

/** The event as the contract sends it: the backend as `{ id, label, index }`. */
export const eventJson = (event: ProxyEvent): object =>
  "backend" in event
    ? {
        ...event,
        backend: { id: event.backend.id, label: event.backend.label, index: event.backend.index },
      }
    : event;

const message = (name: string, data: object): string =>
  `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

export const sseBridge = (proxy: FallbackProxy, options: SseBridgeOptions): SseBridge => {
  const open = new Map<ServerResponse, Subscription>();
  const end = (res: ServerResponse): void => {
    open.get(res)?.unsubscribe();
    open.delete(res);
    res.end();
  };
  return {
    handle: (req, res) => {
      const path = (req.url ?? "").split("?")[0];
      if (req.method !== "GET" || path !== "/events") return false;
      res.writeHead(200, {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        Connection: "keep-alive",
      });
      // The state first (health$ and route$ replay theirs), then at most every stateEveryMs.
      const subscription = combineLatest([proxy.health$, proxy.route$])
        .pipe(
          throttleTime(options.stateEveryMs ?? 200, asyncScheduler, {
            leading: true,
            trailing: true,
          }),
        )
        .subscribe(([health, route]) =>
          res.write(message("state", statusOf(health, route, options, Date.now()))),
        );
      subscription.add(
        proxy.events$.subscribe((event) => res.write(message(event.type, eventJson(event)))),
      );
      open.set(res, subscription);
      req.on("close", () => end(res));
      return true;
    },
    clients: () => open.size,
    close: () => {
      for (const res of [...open.keys()]) end(res);
    },
  };
};
