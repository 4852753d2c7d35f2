/** A TCP endpoint. `host` is a hostname or an IP literal (no brackets); "" means all interfaces. */
export interface Address {
  readonly host: string;
  readonly port: number;
}

/** A backend in the configured list; `index` is its priority (0 = primary). */
export interface Backend {
  readonly index: number;
  readonly address: Address;
  /** The address as the operator wrote it, e.g. "db1:3306" or "[::1]:6379"; used in logs. */
  readonly label: string;
  /** Good checks in a row that mark it up again (default 1). */
  readonly rise?: number;
  /** Failures in a row that mark it down (default 1). */
  readonly fall?: number;
}

/** Formats an address the way Go's net.JoinHostPort does: IPv6 literals get brackets. */
export const formatAddress = ({ host, port }: Address): string =>
  host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;

/** Numbers backends by priority; labels default to the formatted address; rise/fall for all. */
export const makeBackends = (
  addresses: ReadonlyArray<Address>,
  labels: ReadonlyArray<string> = [],
  thresholds: { readonly rise?: number; readonly fall?: number } = {},
): ReadonlyArray<Backend> =>
  addresses.map((address, index) => ({
    index,
    address,
    label: labels[index] ?? formatAddress(address),
    ...(thresholds.rise === undefined || thresholds.rise === 1 ? {} : { rise: thresholds.rise }),
    ...(thresholds.fall === undefined || thresholds.fall === 1 ? {} : { fall: thresholds.fall }),
  }));
