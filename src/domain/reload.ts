import type { ProxySettings } from "./proxy-options.js";

/** What a reload did, or why it did nothing. */
export type ReloadOutcome =
  | {
      readonly ok: true;
      /** Backend ids. */
      readonly added: ReadonlyArray<string>;
      readonly removed: ReadonlyArray<string>;
      readonly changed: ReadonlyArray<string>;
      /** Where the proxy listens after it ("host:port"). */
      readonly listen: string | null;
      /** Settings that changed but apply only at the next start. */
      readonly atRestart: ReadonlyArray<string>;
    }
  | { readonly ok: false; readonly problems: ReadonlyArray<string> };

/**
 * Settings a reload applies only at the next start. It applies the others while running: the
 * backend list with each backend's own settings (and the proxy-wide check, rise and fall they
 * default to, PROXY protocol's sendProxy among them), the listen address, and the drain timeout
 * of removed backends.
 */
const AT_RESTART = [
  "connectTimeoutMs",
  "hedgeMs",
  "probeDelayMs",
  "checkIntervalMs",
  "statsIntervalMs",
  "onDown",
  "onFailback",
  "checkCredentials",
  "admin",
  "onChange",
  "acceptProxy",
  "maxconn",
  "idleTimeoutMs",
  "keepaliveMs",
  "finTimeoutMs",
] as const satisfies ReadonlyArray<keyof ProxySettings>;

/** The option names of settings that differ and apply only at the next start. */
export const restartOnly = (running: ProxySettings, next: ProxySettings): ReadonlyArray<string> =>
  AT_RESTART.filter((key) => JSON.stringify(running[key]) !== JSON.stringify(next[key])).map(
    optionName,
  );

/** A settings key as the option it comes from: connectTimeoutMs is connectTimeout. */
const optionName = (key: string): string => key.replace(/Ms$/, "");
