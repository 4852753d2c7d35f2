import type { ServerResponse } from "node:http";
import type { Observable } from "rxjs";

/** A comment line this often keeps proxies and idle timeouts from closing the stream. */
export const HEARTBEAT_MS = 15_000;

const frame = (type: string, data: unknown): string =>
  `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * Serves one Server-Sent Events client: the current state first (a `state` event), then every
 * event as it happens. Everything it holds (the subscription, the heartbeat) goes when the
 * client leaves or `end` is called. Returns `end`.
 */
export const serveEventStream = (
  res: ServerResponse,
  state: () => object,
  events$: Observable<{ readonly type: string }>,
): (() => void) => {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
  });
  res.write(frame("state", state()));
  const subscription = events$.subscribe({
    next: (event) => res.write(frame(event.type, event)),
    complete: () => res.end(),
  });
  const heartbeat = setInterval(() => res.write(": heartbeat\n\n"), HEARTBEAT_MS);
  const end = (): void => {
    clearInterval(heartbeat);
    subscription.unsubscribe();
    if (!res.writableEnded) res.end();
  };
  res.once("close", end);
  return end;
};
