import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { optionsDecoder } from "./option-codecs.js";
import {
  type ProxyOptions,
  proxyOptionCodecs,
  sharedSettingsOf,
  withCheckProblems,
} from "./proxy-options.js";

/** The socket-less control plane's options, decoded: the proxy's, less what only sockets need. */
export type ControlPlaneSettings = Omit<
  ProxyOptions,
  | "listen"
  | "drainTimeoutMs"
  | "hedgeMs"
  | "onDown"
  | "onFailback"
  | "admin"
  | "onChange"
  | "sendProxy"
  | "acceptProxy"
  | "maxconn"
  | "backendMaxconn"
  | "idleTimeoutMs"
  | "keepaliveMs"
  | "finTimeoutMs"
>;

// The proxy's own codecs less the keys only sockets need: the same rules, the same lines.
const {
  listen,
  drainTimeout,
  hedge,
  onDown,
  onFailback,
  admin,
  onChange,
  sendProxy,
  acceptProxy,
  backends,
  ...shared
} = proxyOptionCodecs;
// The connection limits act on sockets too.
const { maxconn, backendMaxconn, idleTimeout, keepalive, finTimeout, ...optional } = shared;
const decodeData = optionsDecoder({ backends }, optional);

/** Decodes createControlPlane's options; on failure, one line per problem. */
export const decodeControlPlaneOptions = (
  input: unknown,
): E.Either<ReadonlyArray<string>, ControlPlaneSettings> =>
  pipe(
    withCheckProblems(decodeData(input)),
    E.map((data): ControlPlaneSettings => sharedSettingsOf(data)),
  );
