import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type { SchedulerLike } from "rxjs";
import type { Probe } from "./probe.js";
import type { RoutePolicy } from "./route-policy.js";
import type { Address } from "./backend.js";
import { defaults } from "./defaults.js";
import type { Logger } from "./logger.js";
import {
  BackendList,
  DurationMs,
  functionCodec,
  ListenAddress,
  LoggerCodec,
  optionsDecoder,
  PositiveDurationMs,
  PositiveInteger,
  SchedulerCodec,
} from "./option-codecs.js";

/**
 * One codec per option key, shared by every options object the library takes (pick the keys
 * another object needs: `optionsDecoder({ backends }, { probe, logger })`).
 */
export const proxyOptionCodecs = {
  listen: ListenAddress,
  backends: BackendList,
  connectTimeout: PositiveDurationMs,
  hedge: PositiveDurationMs,
  probeDelay: PositiveDurationMs,
  checkInterval: PositiveDurationMs,
  statsInterval: DurationMs,
  drainTimeout: DurationMs,
  rise: PositiveInteger,
  fall: PositiveInteger,
  route: functionCodec<RoutePolicy>("(health$) => Observable<Route>"),
  probe: functionCodec<Probe>("(backend) => Observable<ProbeResult>"),
  logger: LoggerCodec,
  scheduler: SchedulerCodec,
};

const { listen, backends, ...optional } = proxyOptionCodecs;
const decodeProxyOptionsData = optionsDecoder({ listen, backends }, optional);

// ----- model

/** Proxy settings after decoding, with defaults filled in (the original program's defaults). */
export interface ProxySettings {
  readonly listen: Address;
  /** At least one, in priority order. */
  readonly backends: ReadonlyArray<Address>;
  /** Labels as the user wrote the backends, for logs. */
  readonly backendLabels: ReadonlyArray<string>;
  readonly connectTimeoutMs: number;
  /** A dial not done after this long has the next backend dialed too; undefined: off. */
  readonly hedgeMs?: number | undefined;
  readonly probeDelayMs: number;
  /** Check every backend, up ones too, this often; undefined: only down ones, every probeDelayMs. */
  readonly checkIntervalMs?: number | undefined;
  /** 0 turns periodic stats off. */
  readonly statsIntervalMs: number;
  readonly drainTimeoutMs: number;
  /** Good checks in a row that mark a down backend up (1: one is enough). */
  readonly rise: number;
  /** Failures in a row that mark an up backend down (1: one is enough). */
  readonly fall: number;
}

/** Every option decoded: the settings, and the pieces that are code (absent: use the default). */
export interface ProxyOptions extends ProxySettings {
  readonly route?: RoutePolicy | undefined;
  readonly probe?: Probe | undefined;
  readonly logger?: Logger | undefined;
  readonly scheduler?: SchedulerLike | undefined;
}

// ----- decoding

/** The options both the proxy and the socket-less control plane take, as decoded. */
interface SharedOptionsData {
  readonly backends: ReadonlyArray<Address>;
  readonly connectTimeout?: number | undefined;
  readonly probeDelay?: number | undefined;
  readonly statsInterval?: number | undefined;
  readonly checkInterval?: number | undefined;
  readonly rise?: number | undefined;
  readonly fall?: number | undefined;
  readonly route?: RoutePolicy | undefined;
  readonly probe?: Probe | undefined;
  readonly logger?: Logger | undefined;
  readonly scheduler?: SchedulerLike | undefined;
}

/** Shared options with defaults filled in; `input` is what was decoded (for the labels). */
export const sharedSettingsOf = (data: SharedOptionsData, input: unknown) => ({
  backends: data.backends,
  // Decoding succeeded, so the given backends were these strings.
  backendLabels: (input as { backends: ReadonlyArray<string> }).backends.slice(),
  connectTimeoutMs: data.connectTimeout ?? defaults.connectTimeoutMs,
  probeDelayMs: data.probeDelay ?? defaults.probeDelayMs,
  checkIntervalMs: data.checkInterval,
  statsIntervalMs: data.statsInterval ?? defaults.statsIntervalMs,
  rise: data.rise ?? 1,
  fall: data.fall ?? 1,
  route: data.route,
  probe: data.probe,
  logger: data.logger,
  scheduler: data.scheduler,
});

/** Decodes every option createFallbackProxy takes; on failure, one line per problem. */
export const decodeProxyOptions = (input: unknown): E.Either<ReadonlyArray<string>, ProxyOptions> =>
  pipe(
    decodeProxyOptionsData(input),
    E.map((data) => ({
      ...sharedSettingsOf(data, input),
      listen: data.listen,
      hedgeMs: data.hedge,
      drainTimeoutMs: data.drainTimeout ?? defaults.drainTimeoutMs,
    })),
  );

/**
 * Checks options exactly as createFallbackProxy does (the same problems, the same lines,
 * joined by newlines) and returns the settings that are data.
 */
export const decodeProxySettings = (input: unknown): E.Either<string, ProxySettings> =>
  pipe(
    decodeProxyOptions(input),
    E.bimap(
      (problems) => problems.join("\n"),
      (options): ProxySettings => ({
        listen: options.listen,
        backends: options.backends,
        backendLabels: options.backendLabels,
        connectTimeoutMs: options.connectTimeoutMs,
        hedgeMs: options.hedgeMs,
        probeDelayMs: options.probeDelayMs,
        checkIntervalMs: options.checkIntervalMs,
        statsIntervalMs: options.statsIntervalMs,
        drainTimeoutMs: options.drainTimeoutMs,
        rise: options.rise,
        fall: options.fall,
      }),
    ),
  );
