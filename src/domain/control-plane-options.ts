import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import type { SchedulerLike } from "rxjs";
import type { Probe } from "./probe.js";
import type { RoutePolicy } from "./route-policy.js";
import type { Address } from "./backend.js";
import type { Logger } from "./logger.js";
import { optionsDecoder } from "./option-codecs.js";
import { proxyOptionCodecs, sharedSettingsOf } from "./proxy-options.js";

/** The socket-less control plane's options, decoded; code options absent mean the default. */
export interface ControlPlaneSettings {
  readonly backends: ReadonlyArray<Address>;
  readonly backendLabels: ReadonlyArray<string>;
  readonly connectTimeoutMs: number;
  readonly probeDelayMs: number;
  readonly statsIntervalMs: number;
  readonly rise: number;
  readonly fall: number;
  readonly route?: RoutePolicy | undefined;
  readonly probe?: Probe | undefined;
  readonly logger?: Logger | undefined;
  readonly scheduler?: SchedulerLike | undefined;
}

// The proxy's own codecs for the keys that do not need sockets: the same rules, the same lines.
const {
  backends,
  probe,
  route,
  logger,
  scheduler,
  connectTimeout,
  probeDelay,
  statsInterval,
  rise,
  fall,
} = proxyOptionCodecs;
const decodeData = optionsDecoder(
  { backends },
  { probe, route, logger, scheduler, connectTimeout, probeDelay, statsInterval, rise, fall },
);

/** Decodes createControlPlane's options; on failure, one line per problem. */
export const decodeControlPlaneOptions = (
  input: unknown,
): E.Either<ReadonlyArray<string>, ControlPlaneSettings> =>
  pipe(
    decodeData(input),
    E.map((data): ControlPlaneSettings => sharedSettingsOf(data, input)),
  );
