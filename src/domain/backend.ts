import type { CheckSpec } from "./check.js";
import type { ProxyProtocolVersion } from "./proxy-protocol.js";

/** A TCP endpoint. `host` is a hostname or an IP literal (no brackets); "" means all interfaces. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/**
 * One backend as configured: where it is and how it is judged. Settings it leaves out are the
 * proxy's (`rise`, `fall` and `check` for every backend). Room for more per-backend settings.
 */
export interface BackendSpec {
  readonly address: Address;
  /** The address as the operator wrote it, e.g. "db1:3306" or "[::1]:6379"; used in logs. */
  readonly label: string;
  /** A stable name, for logs and for telling backends apart when the list changes. */
  readonly name?: string;
  /** How it is checked; absent: the proxy's check (a TCP connect by default). */
  readonly check?: CheckSpec;
  /** Good checks in a row that mark it up again (default 1). */
  readonly rise?: number;
  /** Failures in a row that mark it down (default 1). */
  readonly fall?: number;
  /** A PROXY protocol header written to it before the client's bytes; absent: none. */
  readonly sendProxy?: ProxyProtocolVersion;
  /**
   * Live connections this process relays to it at most; at the limit new clients skip it for
   * the next backend in the route. Absent: no limit.
   */
  readonly maxconn?: number;
}

/**
 * A backend in the configured list. `index` is its slot: it never changes while the proxy
 * runs, so connections, counters and workers agree on it across reloads. `rank` is its place
 * in the list (0 = primary); absent, the index is the rank (as before any reload).
 */
export interface Backend extends BackendSpec {
  readonly index: number;
  /** Its name where it has one, otherwise its label. */
  readonly id: string;
  readonly rank?: number;
}

/** A backend's place in the list: lower comes first. */
export const rankOf = (backend: Backend): number => backend.rank ?? backend.index;

/** Formats an address the way Go's net.JoinHostPort does: IPv6 literals get brackets. */
export const formatAddress = ({ host, port }: Address): string =>
  host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;

/** What every backend gets unless its own spec says otherwise. */
export interface BackendDefaults {
  readonly rise?: number;
  readonly fall?: number;
  readonly check?: CheckSpec;
  readonly sendProxy?: ProxyProtocolVersion | undefined;
  /** The per-backend connection limit of backends without one of their own. */
  readonly backendMaxconn?: number | undefined;
}

/** Numbers backend specs by priority, filling in the proxy-wide settings each leaves out. */
export const backendsOf = (
  specs: ReadonlyArray<BackendSpec>,
  defaults: BackendDefaults = {},
): ReadonlyArray<Backend> =>
  specs.map((spec, index) => {
    const rise = spec.rise ?? defaults.rise;
    const fall = spec.fall ?? defaults.fall;
    const check = spec.check ?? defaults.check;
    const sendProxy = spec.sendProxy ?? defaults.sendProxy;
    const maxconn = spec.maxconn ?? defaults.backendMaxconn;
    return {
      index,
      id: spec.name ?? spec.label,
      address: spec.address,
      label: spec.label,
      ...(spec.name === undefined ? {} : { name: spec.name }),
      // Defaults stay implicit, so a plain backend looks as it did in 1.0.
      ...(check === undefined || check.kind === "tcp" ? {} : { check }),
      ...(rise === undefined || rise === 1 ? {} : { rise }),
      ...(fall === undefined || fall === 1 ? {} : { fall }),
      ...(sendProxy === undefined ? {} : { sendProxy }),
      ...(maxconn === undefined ? {} : { maxconn }),
    };
  });

/** Specs of plain addresses: labels default to the formatted address. */
export const specsOf = (
  addresses: ReadonlyArray<Address>,
  labels: ReadonlyArray<string> = [],
): ReadonlyArray<BackendSpec> =>
  addresses.map((address, index) => ({
    address,
    label: labels[index] ?? formatAddress(address),
  }));

/** Numbers backends by priority; labels default to the formatted address; rise/fall for all. */
export const makeBackends = (
  addresses: ReadonlyArray<Address>,
  labels: ReadonlyArray<string> = [],
  defaults: BackendDefaults = {},
): ReadonlyArray<Backend> => backendsOf(specsOf(addresses, labels), defaults);
