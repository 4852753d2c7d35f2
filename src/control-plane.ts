import {
  BehaviorSubject,
  type Observable,
  ReplaySubject,
  type SchedulerLike,
  Subject,
  Subscription,
  distinctUntilChanged,
  isObservable,
  map,
  share,
  takeUntil,
  timer,
} from "rxjs";
import type { Backend } from "./domain/backend.js";
import { type CheckResult, checkResultOf } from "./domain/check-result.js";
import { type HealthEvent, type HealthState, initialHealth, ranked } from "./domain/health.js";
import { formatDuration } from "./domain/duration.js";
import { InvalidOptionsError } from "./domain/option-codecs.js";
import type { Logger } from "./domain/logger.js";
import type { ProxyEvent } from "./domain/proxy-event.js";
import { type Route, sameRoute, shareOf, withShare } from "./domain/route.js";
import { type BackendPlan, planBackends } from "./domain/backend-plan.js";
import { type StatsSnapshot, snapshotOf } from "./domain/stats.js";
import { eventLog, logStats } from "./adapters/event-log.js";
import { checkProbe } from "./adapters/checks/check-probe.js";
import type { CheckCredentials } from "./domain/check.js";
import { guardedPolicy } from "./streams/guarded-policy.js";
import { healthLoop } from "./streams/health-loop.js";
import type { Probe } from "./domain/probe.js";
import type { PolicyContext, RoutePolicy } from "./domain/route-policy.js";
import { withOverride } from "./streams/route-override.js";
import { statsSnapshots } from "./streams/stats-snapshots.js";

export interface ControlPlaneConfig {
  readonly backends: ReadonlyArray<Backend>;
  readonly connectTimeoutMs: number;
  readonly probeDelayMs: number;
  /** Check every backend this often; undefined: only down ones, every probeDelayMs. */
  readonly checkIntervalMs?: number | undefined;
  readonly statsIntervalMs: number;
  readonly route: RoutePolicy;
  readonly logger: Logger;
  readonly scheduler: SchedulerLike;
  /** How backends are checked; by default, as each backend's check says (a TCP connect). */
  readonly probe?: Probe | undefined;
  /** Who the checks that log in log in as. */
  readonly checkCredentials?: CheckCredentials | undefined;
  /** An operator's route override (a backend index, or null for the policy): see withOverride. */
  readonly routeOverride$?: Observable<number | null> | undefined;
}

/** Health, route, events and stats for a set of backends: everything but the sockets. */
export interface ControlPlane {
  readonly health$: Observable<HealthState>;
  readonly route$: Observable<Route>;
  readonly events$: Observable<ProxyEvent>;
  readonly stats$: Observable<StatsSnapshot>;
  /** Each check's verdict as it arrives, after health$ has taken it in (not replayed). */
  readonly checks$: Observable<CheckResult>;
  /** Feeds a connection outcome into the health loop (synchronously: the route follows at once). */
  emit(event: HealthEvent): void;
  /**
   * A reload's backend list (numbered as backendsOf does): backends keep their slot, health and
   * counters by id; new ones start checking; the ones left out take no new clients.
   */
  reconfigure(backends: ReadonlyArray<Backend>): BackendPlan;
  /** The latest route, for a synchronous read per dial. */
  currentRoute(): Route;
  /** Whether a backend is up now (by index). */
  isUp(backend: number): boolean;
  snapshot(): StatsSnapshot;
  /** Stops probing and stats, completes the streams. */
  stop(): void;
}

const withoutRetired = (route: Route, state: HealthState): Route => {
  if (!route.some((b) => state.backends[b.index]?.retired === true)) return route;
  return withShare(
    route.filter((b) => state.backends[b.index]?.retired !== true),
    state.backends[route[0]?.index ?? -1]?.retired === true ? 1 : shareOf(route),
  );
};

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** After a route policy's error, the soonest it is subscribed again (at the next health change). */
export const POLICY_RETRY_AFTER_MS = 1_000;

/** How long a route policy may stay silent after start before the log says clients are refused. */
export const ROUTE_WARNING_AFTER_MS = 1_000;

/**
 * Calls the program's policy once, before anything starts: a policy that throws or returns no
 * Observable is a bad option, not a runtime error. Later (re)subscriptions call it again.
 */
const preparedPolicy = (
  policy: RoutePolicy,
  health$: Observable<HealthState>,
  context: PolicyContext,
): RoutePolicy => {
  let first: Observable<Route> | null;
  try {
    first = policy(health$, context);
  } catch (error) {
    throw new InvalidOptionsError(
      `options.route: the policy threw when called: ${messageOf(error)}`,
    );
  }
  if (!isObservable(first))
    throw new InvalidOptionsError(
      `options.route: a policy must return an Observable of routes, got ${Array.isArray(first) ? "an array" : typeof first}`,
    );
  return (h, c) => {
    const output = first ?? policy(h, c);
    first = null;
    return output;
  };
};

/**
 * Builds the control loop: connection events and probe results fold into one health-state
 * stream, the route and the stats derive from it, and events and stats are logged.
 * Throws an InvalidOptionsError, before anything starts, if the route policy is unusable.
 */
export const startControlPlane = (config: ControlPlaneConfig): ControlPlane => {
  const { backends, logger, scheduler } = config;
  const connectionEvents = new Subject<HealthEvent>();
  const events = new Subject<ProxyEvent>();
  const checks = new Subject<CheckResult>();
  const subscriptions = new Subscription();
  const health = new BehaviorSubject<HealthState>(initialHealth(backends, scheduler.now()));
  const health$ = health.asObservable();
  // Every slot, by index, as reloads leave them: a policy's route is checked against these.
  let slots: ReadonlyArray<Backend> = backends;
  const context: PolicyContext = {
    scheduler,
    get backends() {
      return slots;
    },
  };
  // The program's policy is checked as given; the operator's override wraps it after.
  const prepared = preparedPolicy(config.route, health$, context);
  const policy =
    config.routeOverride$ === undefined ? prepared : withOverride(prepared, config.routeOverride$);

  subscriptions.add(events.subscribe(eventLog(logger)));
  subscriptions.add(
    healthLoop({
      backends,
      connectionEvents$: connectionEvents,
      probe:
        config.probe ??
        checkProbe({ ...config.checkCredentials, timeoutMs: config.connectTimeoutMs }),
      probeDelayMs: config.probeDelayMs,
      checkIntervalMs: config.checkIntervalMs,
      probeTimeoutMs: config.connectTimeoutMs,
      scheduler,
      onCheck: (event) => {
        const backend = backends[event.backend];
        if (backend !== undefined) checks.next(checkResultOf(backend, event));
      },
    }).subscribe((step) => {
      // Transitions first: whoever watches events$ hears "backend down" no later than route$
      // moves away from it.
      for (const event of step.transitions) events.next(event);
      health.next(step.state);
    }),
  );

  const policyFailed = (error: unknown): void =>
    events.next({
      type: "error",
      source: "route-policy",
      message: `${messageOf(error)}; keeping the last route, trying the policy again at the next health change (at most once a second)`,
      at: scheduler.now(),
    });
  const route$ = guardedPolicy(
    policy,
    policyFailed,
    POLICY_RETRY_AFTER_MS,
  )(health$, context).pipe(
    // A policy that still holds a backend a reload took out: it takes no new clients.
    map((route) => withoutRetired(route, health.getValue())),
    distinctUntilChanged(sameRoute),
    share({ connector: () => new ReplaySubject<Route>(1), resetOnRefCountZero: false }),
  );
  let currentRoute: Route = [];
  subscriptions.add(route$.subscribe((route) => (currentRoute = route)));
  // A policy that never emits leaves every client without a backend: say so once.
  subscriptions.add(
    timer(ROUTE_WARNING_AFTER_MS, scheduler)
      .pipe(takeUntil(route$))
      .subscribe(() =>
        events.next({
          type: "warning",
          source: "route-policy",
          message: `no route ${formatDuration(ROUTE_WARNING_AFTER_MS)} after start: every client is refused until the policy emits one`,
          at: scheduler.now(),
        }),
      ),
  );

  // Completes at stop(), so no subscriber keeps the stats timer alive after it.
  const stopped = new Subject<void>();
  const stats$ = statsSnapshots(health$, config.statsIntervalMs, scheduler).pipe(
    takeUntil(stopped),
    share(),
  );
  subscriptions.add(stats$.subscribe((snapshot) => logStats(logger, snapshot)));

  return {
    health$,
    route$,
    events$: events.asObservable(),
    stats$,
    checks$: checks.asObservable(),
    emit: (event) => connectionEvents.next(event),
    currentRoute: () => currentRoute,
    reconfigure: (next) => {
      const state = health.getValue();
      const plan = planBackends(
        slots,
        ranked(state).map((b) => b.backend.index),
        next,
      );
      slots = plan.slots;
      connectionEvents.next({
        type: "reconfigure",
        backends: plan.backends,
        added: plan.added,
        removed: plan.removed,
        changed: plan.changed,
        at: scheduler.now(),
      });
      return plan;
    },
    isUp: (backend) => health.getValue().backends[backend]?.up === true,
    snapshot: () => snapshotOf(health.getValue(), scheduler.now()),
    stop: () => {
      stopped.next();
      stopped.complete();
      subscriptions.unsubscribe();
      events.complete();
      checks.complete();
      health.complete();
      connectionEvents.complete();
    },
  };
};
