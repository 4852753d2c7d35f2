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

/** A check as written: a kind such as "redis-primary", "http:/health", or a send-expect spec. */
export type CheckOption =
  | string
  | { readonly kind: "send-expect"; readonly send?: string; readonly expect: string }
  | { readonly kind: "http"; readonly path: string };

/** A backend with settings of its own; what it leaves out is the proxy's. */
export interface BackendOption {
  readonly address: string;
  /** A stable name, used in logs. */
  readonly name?: string;
  readonly check?: CheckOption;
  readonly rise?: number;
  readonly fall?: number;
  /** A PROXY protocol header ("v1" or "v2") written to this backend before the client's bytes. */
  readonly sendProxy?: "v1" | "v2";
  /** Live connections the proxy relays to it at most; at the limit new clients go to the next backend. */
  readonly maxconn?: number;
}

/**
 * The control plane's options: the proxy's, less what only sockets need. Any other key is an
 * error (with a suggestion for near misses such as probe_delay); optional keys may be left out
 * or undefined.
 */
export interface ControlPlaneOptions {
  /**
   * At least one backend, in priority order: "host:port" or "[v6]:port", or an object with the
   * address and settings of its own (`{ address: "db2:5432", name: "db2", check: "pgsql" }`).
   */
  readonly backends: ReadonlyArray<string | BackendOption>;
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
  /**
   * How backends are checked: "tcp" (a connect; the default), "redis", "redis-primary",
   * "mysql", "mysql-primary", "pgsql", "pgsql-primary", "http:/PATH" or "send-expect". Any
   * check but "tcp" decides alone: a backend takes no clients until its first check passes,
   * and a client's connect does not count as a check.
   */
  readonly check?: CheckOption;
  /** Who the mysql-primary and pgsql-primary checks log in as (and redis AUTH's user). */
  readonly checkUser?: string;
  /** Their password (and redis AUTH's). */
  readonly checkPassword?: string;
  /** The database the login checks connect to (pgsql-primary: "postgres" by default). */
  readonly checkDatabase?: string;
  /** send-expect: what the check sends (may be empty: read a banner). */
  readonly checkSend?: string;
  /** send-expect: a regular expression the first answer must match. */
  readonly checkExpect?: string;
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
