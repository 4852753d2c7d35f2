import type { HealthEvent } from "../../domain/health.js";
import type { LogLevelName, Logger } from "../../domain/logger.js";
import { backendsOf } from "../../domain/backend.js";
import { checkDecides } from "../../domain/check.js";
import type { RunOptions } from "../../cli/run-options.js";
import { type Route, shareOf, withShare } from "../../domain/route.js";
import type { CpuProfile } from "../cpu-profile.js";
import { startRelayServer } from "../relay-server.js";
import { type PrimaryMessage, type WorkerMessage, isPrimaryMessage } from "./messages.js";

/**
 * Tells the primary; then, if given, calls `sent`, also when the primary is gone. (The channel
 * may break between the check and the write: that error goes to `sent`, or without it to the
 * listener ./worker-preload.cts put in place.)
 */
const send = (message: WorkerMessage, sent?: () => void): void => {
  if (process.connected) process.send?.(message, undefined, undefined, sent);
  else sent?.();
};

/** Log lines go to the primary, which owns the sink: one log, not one per worker. */
const ipcLogger = (debugEnabled: boolean): Logger => {
  const line = (level: LogLevelName) => (message: string) => send({ kind: "log", level, message });
  return {
    debug: debugEnabled ? line("debug") : () => undefined,
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
    debugEnabled,
  };
};

/**
 * A worker process: only the data plane. It routes on the route the primary pushes, and sends
 * its connection outcomes back, so health is judged in one place.
 */
export const runWorker = (options: RunOptions, profile: CpuProfile | null): void => {
  // Replaced by a reload's slots (the primary's "backends" message).
  let backends = backendsOf(options.backends, options);
  // Until the primary's first route arrives: the backends a single process starts with (none
  // whose check decides: it takes clients only once its first check has passed).
  let route: Route = backends.filter((b) => !checkDecides(b.check));
  let stopping = false;
  // The relay server already tallies counters per event-loop turn: each event goes on as it comes.
  const emit = (event: HealthEvent): void => {
    // Don't wait for the primary's verdict to stop using a backend this worker saw fail. A dial
    // that failed for a local reason (out of descriptors) is "refused-locally": no backend's fault.
    // With -fall above 1 one failure is not enough: the primary's route decides.
    // A ramp's share belongs to its first backend: without it, the rest take every client.
    if (event.type === "connect-failed" && options.fall <= 1)
      useRoute(
        withShare(
          route.filter((b) => b.index !== event.backend),
          route[0]?.index === event.backend ? 1 : shareOf(route),
        ),
      );
    send({ kind: "events", events: [event] });
  };

  const relay = startRelayServer({
    listen: options.listen,
    connectTimeoutMs: options.connectTimeoutMs,
    hedgeMs: options.hedgeMs,
    acceptProxy: options.acceptProxy,
    maxconn: options.maxconn,
    idleTimeoutMs: options.idleTimeoutMs,
    keepaliveMs: options.keepaliveMs,
    finTimeoutMs: options.finTimeoutMs,
    emit,
    now: Date.now,
    logger: ipcLogger(options.debug && !options.quiet),
  });
  const useRoute = (next: Route): void => {
    route = next;
    relay.setRoute(next);
  };
  useRoute(route);
  relay.listening.then(
    ({ address, family, port }) => send({ kind: "listening", address, family, port }),
    // The primary stops every worker and reports the failure; this one has nothing left to do.
    (error: Error) =>
      send({ kind: "listen-failed", message: error.message }, () => process.exit(1)),
  );

  // The last route the primary sent, by index: a reload's slots may come after it.
  let routeMessage: Extract<PrimaryMessage, { kind: "route" }> | null = null;
  const routeFrom = (message: Extract<PrimaryMessage, { kind: "route" }>): Route =>
    withShare(
      message.backends.flatMap((index) => backends[index] ?? []),
      message.share,
    );
  process.on("message", (message: unknown) => {
    if (!isPrimaryMessage(message)) return;
    if (message.kind === "route") {
      routeMessage = message;
      useRoute(routeFrom(message));
      return;
    }
    if (message.kind === "relisten") {
      relay.relisten(message.address).then(
        ({ address, family, port }) => send({ kind: "relistened", address, family, port }),
        (error: Error) => send({ kind: "relisten-failed", message: error.message }),
      );
      return;
    }
    if (message.kind === "backends") {
      backends = message.backends;
      if (routeMessage !== null) useRoute(routeFrom(routeMessage));
      return;
    }
    if (message.kind === "close-sessions") {
      relay.closeSessions(message.backend);
      return;
    }
    if (stopping) return;
    stopping = true;
    void relay.drain(message.timeoutMs).then(async () => {
      await profile?.stop();
      // The drain handed on the last outcomes. IPC messages are written in order, so once this
      // empty one is out, they are too: only then may the process go.
      send({ kind: "events", events: [] }, () => process.exit(0));
    });
  });
  // Signals are ignored from the start (./worker-preload.cts); and a worker whose primary is
  // gone is ended at once by Node's cluster module: there is nobody left to report to.
};
