/**
 * tcp-fallback's public API: start a failover proxy, or compose your own routing from its
 * health streams.
 */
import * as E from "fp-ts/lib/Either.js";
import { type ControlPlaneOptions, withCodeDefaults } from "./create-control-plane.js";
import { InvalidOptionsError } from "./domain/option-codecs.js";
import { decodeProxyOptions } from "./domain/proxy-options.js";
import { type FallbackProxy, startFallbackProxy } from "./fallback-proxy.js";
import type { AdminHandler } from "./adapters/admin/admin-server.js";

export { InvalidOptionsError };

/** Options of createFallbackProxy: the control plane's, and what the sockets need. */
export interface FallbackProxyOptions extends ControlPlaneOptions {
  /** "host:port", "[::1]:port", ":port" (all interfaces) or a port number 0-65535; 0 picks a free port. */
  readonly listen: string | number;
  /**
   * Hedged connects: a backend's connect not done after this long (above zero) has the next
   * backend dialed too, and the first to connect takes the client; the slow one is not blamed
   * unless it fails on its own. Default: off.
   */
  readonly hedge?: number | string;
  /** How long close() lets live connections finish. Default 10s. */
  readonly drainTimeout?: number | string;
  /** A backend marked down: "keep" its live connections (default) or "close" them. */
  readonly onDown?: "keep" | "close";
  /**
   * New clients going back to an earlier backend: connections still on later ones are kept
   * ("keep", default), closed at once ("close"), or closed that long after ("drain:30s").
   */
  readonly onFailback?: "keep" | "close" | `drain:${string}`;
  /**
   * The admin HTTP server (GET /status, GET /events, actions): "127.0.0.1:9400", a port (on
   * loopback), or `{ address, token, handlers }`. Off loopback a token is required; with one,
   * every request needs `Authorization: Bearer <token>`. Default: off.
   */
  readonly admin?:
    | string
    | number
    | {
        readonly address: string | number;
        readonly token?: string;
        readonly handlers?: ReadonlyArray<AdminHandler>;
      };
  /**
   * A command run for every change of the route or of a backend's state: one line split into
   * words with shell-like quotes (no shell, no globbing, no variables) or the words themselves.
   * The change goes on its stdin as one JSON line and in TCP_FALLBACK_* variables; runs go one
   * at a time, in order, each bounded to 10s; a failing hook is logged, never fatal.
   */
  readonly onChange?: string | ReadonlyArray<string>;
  /**
   * PROXY protocol to the backends: "v1" (text) or "v2" (binary). After connecting, the proxy
   * writes a header with the client's address and port as source and the address the client
   * connected to as destination (with `acceptProxy`, the ones the client's header gave), before
   * any client byte. A backend's own `sendProxy` overrides it. Default: off.
   */
  readonly sendProxy?: "v1" | "v2";
  /**
   * Every client must start with a PROXY protocol header (v1 or v2), read within the connect
   * timeout before routing. Its source address is the client's in logs and in the header sent
   * with `sendProxy`. A missing or malformed header is logged and the client closed. Default: off.
   */
  readonly acceptProxy?: boolean;
  /**
   * Live clients in this process at most: at the limit accepting pauses (new clients wait in
   * the listen backlog, never reset) and resumes below it. Default: off.
   */
  readonly maxconn?: number;
  /**
   * The live connections each backend takes that has no `maxconn` of its own (a backend object
   * in `backends` may carry one); at the limit new clients go to the next backend. Default: off.
   */
  readonly backendMaxconn?: number;
  /** Close a connection with no bytes either way for this long (above zero). Default: off. */
  readonly idleTimeout?: number | string;
  /** TCP keepalive on the client and backend sockets, first probe after this long idle. Default: off. */
  readonly keepalive?: number | string;
  /** Once one side has sent its FIN, close both sides this long after. Default: off. */
  readonly finTimeout?: number | string;
}

/**
 * Starts a failover proxy. Invalid options throw an InvalidOptionsError, one line per
 * problem, before anything starts (use `decodeProxySettings` to get an Either instead).
 */
export const createFallbackProxy = (options: FallbackProxyOptions): FallbackProxy => {
  const decoded = decodeProxyOptions(options);
  if (E.isLeft(decoded)) throw new InvalidOptionsError(decoded.left);
  return startFallbackProxy(withCodeDefaults(decoded.right));
};

export type { FallbackProxy, ProxyConfig } from "./fallback-proxy.js";
export { startFallbackProxy } from "./fallback-proxy.js";
export type { Address, Backend } from "./domain/backend.js";
export { formatAddress, makeBackends } from "./domain/backend.js";
export type {
  BackendHealth,
  HealthEvent,
  HealthState,
  HealthStatus,
  LastCheck,
  LimitCounts,
  LimitReason,
  Totals,
  TrafficDelta,
} from "./domain/health.js";
export {
  downBackends,
  downtimeAt,
  initialHealth,
  reduceHealth,
  stepHealth,
  upBackends,
} from "./domain/health.js";
export type { Logger, LogLevelName } from "./domain/logger.js";
export { silentLogger } from "./domain/logger.js";
export { stderrLogger } from "./adapters/log/stderr-logger.js";
export type { ProxyEvent } from "./domain/proxy-event.js";
export type { AdminAction, AdminHold } from "./domain/health.js";
export {
  type AdminHandler,
  type AdminServer,
  type AdminServerOptions,
  startAdminServer,
} from "./adapters/admin/admin-server.js";
export type { AdminApi } from "./adapters/admin/admin-api.js";
export {
  type AdminRoutes,
  type AdminRoutesOptions,
  createAdminRoutes,
} from "./adapters/admin/admin-routes.js";
export { type Metrics, type MetricsSource, createMetrics } from "./adapters/admin/metrics.js";
export type { RouteEvent } from "./domain/route-event.js";
export type { AdminStatus, BackendStatus } from "./domain/admin-status.js";
export { withOverride } from "./streams/route-override.js";
export type { Route } from "./domain/route.js";
export {
  checkRoute,
  firstHealthyRoute,
  nextSettleAt,
  routeLedBy,
  sameRoute,
  settledFirstRoute,
} from "./domain/route.js";
export type { BackendStats, StatsSnapshot } from "./domain/stats.js";
export { formatStatsLines } from "./domain/stats.js";
export { decodeProxySettings, type ProxySettings } from "./domain/proxy-options.js";
export type { OnDown, OnFailback, SessionClosing } from "./domain/session-policy.js";
export { sessionClosings, type SessionClosingsOptions } from "./streams/session-closings.js";
export { parseDuration, formatDuration } from "./domain/duration.js";
export type { BackendRole, Probe, ProbeResult } from "./domain/probe.js";
export type { PolicyContext, RoutePolicy } from "./domain/route-policy.js";
export { firstHealthy, stickyUntilDown } from "./streams/route-policies.js";
export { delayedFailback } from "./streams/delayed-failback.js";
export { manualFailback } from "./streams/manual-failback.js";
export { rampFailback } from "./streams/ramp-failback.js";
export { healthLoop, type HealthLoopOptions } from "./streams/health-loop.js";
export { type HealthStep, healthSteps, initialStep } from "./streams/health-steps.js";
export { boundedProbe } from "./streams/bounded-probe.js";
export { guardedPolicy, InvalidRouteError } from "./streams/guarded-policy.js";
export type { ControlPlane } from "./control-plane.js";
export type { CheckResult } from "./domain/check-result.js";
export { createControlPlane, type ControlPlaneOptions } from "./create-control-plane.js";
export { tcpConnectProbe } from "./adapters/prober.js";
export { checkProbe } from "./adapters/checks/check-probe.js";
export { redisCheck, redisPrimaryCheck } from "./adapters/checks/redis.js";
export { mysqlCheck, mysqlPrimaryCheck } from "./adapters/checks/mysql.js";
export { pgsqlCheck, pgsqlPrimaryCheck } from "./adapters/checks/pgsql.js";
export { httpCheck } from "./adapters/checks/http.js";
export { sendExpectCheck } from "./adapters/checks/send-expect.js";
export type { CheckCredentials, CheckKind, CheckSettings, CheckSpec } from "./domain/check.js";
export type { BackendSpec } from "./domain/backend.js";
export { backendsOf } from "./domain/backend.js";
export type { BackendOption, CheckOption } from "./create-control-plane.js";
export type { ChangeNotice } from "./domain/change-notice.js";
export { noticeEnv, noticeRecord } from "./domain/change-notice.js";
export { commandLineWords } from "./domain/command-line-words.js";
export { changeNotices } from "./streams/change-notices.js";
export {
  type HookRunner,
  type HookRunnerOptions,
  startHookRunner,
} from "./adapters/hook-runner.js";
