import type { ObservableInput } from "rxjs";
import type { Backend } from "./backend.js";

/** The role a check found a backend in, for checks that can tell (a database's primary or replica). */
export type BackendRole = "primary" | "replica";

/**
 * A check's verdict. The stream stamps the time, so marble tests own the clock; a check may add
 * the role it saw and how long it took.
 */
export type ProbeResult =
  | { readonly ok: true; readonly role?: BackendRole; readonly latencyMs?: number }
  | { readonly ok: false; readonly reason: string; readonly latencyMs?: number };

/**
 * The check port: probes one backend once, emitting one result and completing. An Observable or
 * a Promise; the proxy bounds it by the connect timeout and turns a throw or a rejection into a
 * failed check.
 */
export type Probe = (backend: Backend) => ObservableInput<ProbeResult>;
