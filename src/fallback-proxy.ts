import type { AddressInfo } from "node:net";
import * as E from "fp-ts/lib/Either.js";
import { BehaviorSubject, type Observable, Subject, filter, map, merge } from "rxjs";
import { backendsOf } from "./domain/backend.js";
import type { StartDataPlane } from "./domain/data-plane.js";
import type { CheckResult } from "./domain/check-result.js";
import type { HealthState } from "./domain/health.js";
import type { ProxyEvent } from "./domain/proxy-event.js";
import type { ProxySettings } from "./domain/proxy-options.js";
import type { Route } from "./domain/route.js";
import { KEEP_ON_FAILBACK } from "./domain/session-policy.js";
import type { StatsSnapshot } from "./domain/stats.js";
import { logProxyEvent, logStats } from "./adapters/event-log.js";
import { describeListening, startRelayServer } from "./adapters/relay-server.js";
import { type ControlPlaneConfig, startControlPlane } from "./control-plane.js";
import { sessionClosings } from "./streams/session-closings.js";
import { startAdminPlane } from "./admin-plane.js";
import type { AdminRoutes } from "./adapters/admin/admin-routes.js";
import type { AdminSettings } from "./domain/admin-options.js";
import { type Backend, formatAddress } from "./domain/backend.js";
import { type ReloadOutcome, restartOnly } from "./domain/reload.js";
import { longTimer } from "./streams/long-timer.js";
import { changeNotices } from "./streams/change-notices.js";
import { DEFAULT_HOOK_TIMEOUT_MS, startHookRunner } from "./adapters/hook-runner.js";

/** Decoded settings plus the pieces that are code, not data (as the control plane takes them). */
export interface ProxyConfig
  extends
    Omit<ProxySettings, "onDown" | "onFailback">,
    Partial<Pick<ProxySettings, "onDown" | "onFailback">>,
    Pick<ControlPlaneConfig, "route" | "logger" | "scheduler" | "probe"> {
  /** Where clients are served: by default a relay server in this process on `listen`. */
  readonly dataPlane?: StartDataPlane | undefined;
  /**
   * Manual failback requests, shared with whoever else asks (the CLI's signal): the route
   * policy should listen to it. The proxy makes its own when not given.
   */
  readonly failback$?: Subject<void> | undefined;
  /** Where reloadConfig (SIGHUP, POST /reload) reads new settings: a file, checked again. */
  readonly configSource?:
    (() => Promise<E.Either<ReadonlyArray<string>, ProxySettings>>) | undefined;
}

export interface FallbackProxy {
  /** Current health of every backend, replayed to new subscribers. */
  readonly health$: Observable<HealthState>;
  /** Backends new clients will try, in order; replayed to new subscribers. */
  readonly route$: Observable<Route>;
  /** Health changes and failures as they happen (not replayed). */
  readonly events$: Observable<ProxyEvent>;
  /** Each check's verdict and latency as it arrives (not replayed). */
  readonly checks$: Observable<CheckResult>;
  /** A snapshot every stats interval. */
  readonly stats$: Observable<StatsSnapshot>;
  /** Resolves with the bound address; rejects if the listen address cannot be bound. */
  readonly listening: Promise<AddressInfo>;
  /** The admin HTTP server's bound address; null when it is off. */
  readonly admin: Promise<AddressInfo> | null;
  /**
   * The admin API (the page, status, events, actions, metrics) as a request listener for an
   * HTTP server the program owns; `token` and `handlers` as in the `admin` option.
   */
  adminRoutes(options?: Pick<AdminSettings, "token" | "handlers">): AdminRoutes;
  /**
   * Applies new settings while running: the backend list (added ones start checking, removed
   * ones take no new clients and their connections drain for up to the drain timeout, the
   * others keep their health and counters by id) and the listen address. Settings that can
   * only change at a restart are named in the outcome and logged.
   */
  reload(settings: ProxySettings): Promise<ReloadOutcome>;
  /** Reads the config source again and reloads, or refuses it (logged, a config-refused event). */
  reloadConfig(): Promise<ReloadOutcome>;
  /** Asks for the manual failback (what POST /failback does). */
  failback(): void;
  /** Counters and health right now. */
  snapshot(): StatsSnapshot;
  /**
   * Stops accepting, lets live connections finish for up to the drain timeout, closes the
   * rest, logs final stats and stops probing. Safe to call more than once.
   */
  close(): Promise<void>;
}

/** The settings in a config, without the pieces that are code. */
const settingsOf = (config: ProxyConfig): ProxySettings => ({
  listen: config.listen,
  backends: config.backends,
  connectTimeoutMs: config.connectTimeoutMs,
  hedgeMs: config.hedgeMs,
  probeDelayMs: config.probeDelayMs,
  checkIntervalMs: config.checkIntervalMs,
  statsIntervalMs: config.statsIntervalMs,
  drainTimeoutMs: config.drainTimeoutMs,
  onDown: config.onDown ?? "keep",
  onFailback: config.onFailback ?? KEEP_ON_FAILBACK,
  rise: config.rise,
  fall: config.fall,
  check: config.check,
  checkCredentials: config.checkCredentials,
  ...(config.admin === undefined ? {} : { admin: config.admin }),
  ...(config.onChange === undefined ? {} : { onChange: config.onChange }),
  sendProxy: config.sendProxy,
  acceptProxy: config.acceptProxy,
  maxconn: config.maxconn,
  backendMaxconn: config.backendMaxconn,
  idleTimeoutMs: config.idleTimeoutMs,
  keepaliveMs: config.keepaliveMs,
  finTimeoutMs: config.finTimeoutMs,
});

/**
 * The composition root, for the library and the command line alike: the control plane
 * (streams) and a data plane (sockets, in this process or in workers), wired.
 */
export const startFallbackProxy = (config: ProxyConfig): FallbackProxy => {
  const { logger, scheduler } = config;
  const backends = backendsOf(config.backends, config);
  // What a reload compares with and replaces.
  let running: ProxySettings = settingsOf(config);
  // First, as it may refuse the route policy before anything starts.
  const failback$ = config.failback$ ?? new Subject<void>();
  // The operator's route override (POST /route): a backend index, or null for the policy.
  const override$ = new BehaviorSubject<number | null>(null);
  const control = startControlPlane({
    ...config,
    backends,
    routeOverride$: override$,
  });
  for (const backend of backends) logger.info(`Backend ${backend.label} added`);
  const startDataPlane: StartDataPlane =
    config.dataPlane ??
    ((wiring) =>
      startRelayServer({
        ...wiring,
        listen: config.listen,
        connectTimeoutMs: config.connectTimeoutMs,
        hedgeMs: config.hedgeMs,
        acceptProxy: config.acceptProxy,
        maxconn: config.maxconn,
        idleTimeoutMs: config.idleTimeoutMs,
        keepaliveMs: config.keepaliveMs,
        finTimeoutMs: config.finTimeoutMs,
      }));
  const dataPlane = startDataPlane({
    emit: control.emit,
    isUp: control.isUp,
    now: () => scheduler.now(),
    logger,
  });
  // route$ replays its latest route: the data plane has it before it can accept a client.
  const routing = control.route$.subscribe((route) => dataPlane.setRoute(route));
  // Subscribed after routing: at a failback the data plane has the new route before it closes.
  const sessionEvents = new Subject<ProxyEvent>();
  const closing$ = sessionClosings(
    control.route$,
    control.events$.pipe(
      filter((event) => event.type === "backend-down"),
      map((event) => event.backend),
    ),
    {
      onDown: config.onDown ?? "keep",
      onFailback: config.onFailback ?? KEEP_ON_FAILBACK,
      scheduler,
    },
  );
  routing.add(
    closing$.subscribe((order) => {
      const event: ProxyEvent = { type: "sessions-closed", ...order, at: scheduler.now() };
      logProxyEvent(logger, event);
      sessionEvents.next(event);
      dataPlane.closeSessions(order.backend.index);
    }),
  );
  const events$ = merge(control.events$, sessionEvents);
  let boundAddress: string | null = null;
  const requestFailback = (): void => {
    logger.info("Failback requested by admin");
    failback$.next();
  };
  const adminPlane = startAdminPlane({
    backends,
    health$: control.health$,
    route$: control.route$,
    events$,
    checks$: control.checks$,
    emit: control.emit,
    dataPlane,
    override$,
    failback: requestFailback,
    // Defined below; only with a config source is there anything to reload.
    reload: config.configSource === undefined ? undefined : () => reloadConfig(),
    listenAddress: () => boundAddress,
    logger,
    scheduler,
  });
  const adminServer = config.admin === undefined ? null : adminPlane.serve(config.admin);
  const adminListening = adminServer?.listening ?? null;
  // Subscribed after routing and closings: a hook hears of a change once it is in force.
  const hook =
    config.onChange === undefined
      ? null
      : startHookRunner(config.onChange, logger, { timeoutMs: DEFAULT_HOOK_TIMEOUT_MS });
  if (hook !== null)
    routing.add(
      changeNotices(control.route$, control.events$, scheduler).subscribe((notice) =>
        hook.run(notice),
      ),
    );
  // Removed backends' connections drain for up to the drain timeout, then are closed.
  const retiring = new Map<number, () => void>();
  const retire = (backend: Backend, drainMs: number): void => {
    retiring.get(backend.index)?.();
    const timer = longTimer(drainMs, undefined, scheduler).subscribe(() => {
      retiring.delete(backend.index);
      const closed = dataPlane.closeSessions(backend.index);
      if (closed !== 0)
        logger.info(
          `Closed ${closed ?? "the"} connection(s) of backend ${backend.label}: removed by a reload, drain timeout over`,
        );
    });
    retiring.set(backend.index, () => timer.unsubscribe());
  };
  const unretire = (backend: Backend): void => {
    retiring.get(backend.index)?.();
    retiring.delete(backend.index);
  };

  // One reload at a time, in the order asked (two SIGHUPs in a row apply the file twice).
  let reloads: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const done = reloads.then(work, work);
    reloads = done.catch(() => undefined);
    return done;
  };
  const reload = (next: ProxySettings): Promise<ReloadOutcome> => oneAtATime(() => apply(next));
  const apply = async (next: ProxySettings): Promise<ReloadOutcome> => {
    // Port 0 (any free port) stays where it is unless the host changes.
    const listenChanged =
      next.listen.host !== running.listen.host ||
      (next.listen.port !== running.listen.port && next.listen.port !== 0);
    if (listenChanged) {
      if (dataPlane.relisten === undefined) {
        const problems = [
          `this data plane cannot move its listener (${formatAddress(running.listen)} to ${formatAddress(next.listen)}): restart to move it`,
        ];
        refused(problems);
        return { ok: false, problems };
      }
      try {
        const address = await dataPlane.relisten(next.listen);
        boundAddress = formatAddress({ host: address.address, port: address.port });
        logger.info(`Listening on ${boundAddress} (moved by a reload)`);
      } catch (error) {
        const problems = [(error as Error).message];
        refused(problems);
        return { ok: false, problems };
      }
    }
    const atRestart = restartOnly(running, next);
    if (atRestart.length > 0)
      logger.warn(`Reload: ${atRestart.join(", ")} changed; applied at the next start`);
    const plan = control.reconfigure(backendsOf(next.backends, next));
    dataPlane.setBackends?.(plan.slots);
    for (const backend of plan.removed) retire(backend, next.drainTimeoutMs);
    for (const backend of plan.added) unretire(backend);
    running = { ...next, listen: listenChanged ? next.listen : running.listen };
    return {
      ok: true,
      added: plan.added.map((b) => b.id),
      removed: plan.removed.map((b) => b.id),
      changed: plan.changed.map((b) => b.id),
      listen: boundAddress,
      atRestart,
    };
  };
  const reloadConfig = (): Promise<ReloadOutcome> =>
    oneAtATime(async () => {
      if (config.configSource === undefined)
        return { ok: false, problems: ["no configuration file to reload (start with -config)"] };
      const next = await config.configSource();
      if (E.isRight(next)) return apply(next.right);
      refused(next.left);
      return { ok: false, problems: next.left };
    });
  const refused = (problems: ReadonlyArray<string>): void => {
    const event: ProxyEvent = { type: "config-refused", problems, at: scheduler.now() };
    logProxyEvent(logger, event);
    sessionEvents.next(event);
  };

  const stop = (): void => {
    for (const cancel of retiring.values()) cancel();
    retiring.clear();
    void adminServer?.close();
    adminPlane.stop();
    override$.complete();
    routing.unsubscribe();
    control.stop();
    sessionEvents.complete();
  };
  // The proxy is listening once its admin server is too: a bad admin address fails the start.
  const listening = Promise.all([
    dataPlane.listening.then((address): AddressInfo => {
      logger.info(describeListening(address));
      boundAddress = formatAddress({ host: address.address, port: address.port });
      return address;
    }),
    adminListening,
  ]).then(([address]) => address);
  listening.catch(stop);

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await dataPlane.drain(config.drainTimeoutMs);
      logStats(logger, control.snapshot());
      stop();
      await hook?.close();
    })();
    return closing;
  };

  return {
    health$: control.health$,
    route$: control.route$,
    events$,
    checks$: control.checks$,
    admin: adminListening,
    adminRoutes: adminPlane.routes,
    reload,
    reloadConfig,
    failback: requestFailback,
    stats$: control.stats$,
    listening,
    snapshot: control.snapshot,
    close,
  };
};
