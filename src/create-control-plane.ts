import * as E from "fp-ts/lib/Either.js";
import { type SchedulerLike, asyncScheduler } from "rxjs";
import { backendsOf } from "./domain/backend.js";
import { InvalidOptionsError } from "./domain/option-codecs.js";
import { silentLogger } from "./domain/logger.js";
import type { LoggerOption } from "./domain/option-codecs.js";
import {
  type ControlPlaneSettings,
  decodeControlPlaneOptions,
} from "./domain/control-plane-options.js";
import { type ControlPlane, type ControlPlaneConfig, startControlPlane } from "./control-plane.js";
import type { Probe } from "./domain/probe.js";
import type { RoutePolicy } from "./domain/route-policy.js";
import { firstHealthy } from "./streams/route-policies.js";

/**
 * The control plane's options: the proxy's, less what only sockets need. Any other key is an
 * error (with a suggestion for near misses such as probe_delay); optional keys may be left out
 * or undefined.
 */
export interface ControlPlaneOptions {
  /** At least one backend, in priority order: "host:port" or "[v6]:port". */
  readonly backends: ReadonlyArray<string>;
  /** Backend connect timeout, above zero; it also bounds every probe. Default 5s. */
  readonly connectTimeout?: number | string;
  /** Interval between probes of down backends; above zero. Default 30s. */
  readonly probeDelay?: number | string;
  /** Check every backend, up ones too, this often; off by default (only down ones, every probeDelay). */
  readonly checkInterval?: number | string;
  /** Interval of stats snapshots (and STATS log lines); 0 turns them off. Default 15m. */
  readonly statsInterval?: number | string;
  /** Good checks in a row that bring a down backend back. Default 1. */
  readonly rise?: number;
  /** Failures in a row (checks or client connects) that mark a backend down. Default 1. */
  readonly fall?: number;
  /** Turns the health stream into the route stream. Default: firstHealthy. */
  readonly route?: RoutePolicy;
  /** How backends are checked. Default: a TCP connect within connectTimeout. */
  readonly probe?: Probe;
  /**
   * Where log lines go: debug, info, warn and error functions. Without debugEnabled, debug
   * lines are built and passed to debug(); set it false to skip them. Default: nowhere
   * (subscribe to events$ instead).
   */
  readonly logger?: LoggerOption;
  /** Clock and timers of every time-based stream. Default: rxjs asyncScheduler. */
  readonly scheduler?: SchedulerLike;
}

/**
 * The proxy without sockets: health, route, events and stats for a list of backends, fed by
 * `emit` (connection outcomes) and probes. Runs under a TestScheduler: `stop()` ends every
 * timer at once, so `run()` returns. Invalid options throw an InvalidOptionsError.
 */
export const createControlPlane = (options: ControlPlaneOptions): ControlPlane => {
  const decoded = decodeControlPlaneOptions(options);
  if (E.isLeft(decoded)) throw new InvalidOptionsError(decoded.left);
  const settings = withCodeDefaults(decoded.right);
  return startControlPlane({
    ...settings,
    backends: backendsOf(settings.backends, settings),
  });
};

/** The options that are code, with their defaults where the program gave none. */
export const withCodeDefaults = <T extends Omit<ControlPlaneSettings, "backends">>(
  options: T,
): T & Pick<ControlPlaneConfig, "route" | "logger" | "scheduler" | "probe"> => ({
  ...options,
  route: options.route ?? firstHealthy,
  logger: options.logger ?? silentLogger,
  scheduler: options.scheduler ?? asyncScheduler,
  probe: options.probe,
});
