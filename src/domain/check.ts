/** What a backend's health check asks: a connect, or a question in the backend's own protocol. */
export type CheckSpec =
  | { readonly kind: "tcp" }
  | { readonly kind: "redis" }
  | { readonly kind: "redis-primary" }
  | { readonly kind: "mysql" }
  | { readonly kind: "mysql-primary" }
  | { readonly kind: "pgsql" }
  | { readonly kind: "pgsql-primary" }
  /** `GET path` must answer 2xx. */
  | { readonly kind: "http"; readonly path: string }
  /** `send` (may be empty: just read), then the first answer must match `expect`. */
  | { readonly kind: "send-expect"; readonly send: string; readonly expect: string };

export type CheckKind = CheckSpec["kind"];

/** Who the role checks log in as; the password comes from a file, never the command line. */
export interface CheckCredentials {
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  readonly database?: string | undefined;
}

/** What every check factory takes: its bound (the connect timeout) and, for logins, credentials. */
export interface CheckSettings extends CheckCredentials {
  readonly timeoutMs: number;
}

export const TCP_CHECK: CheckSpec = { kind: "tcp" };

/**
 * Whether the check alone decides a backend's health: any check but a plain connect. Then a
 * client's successful connect proves nothing (a replica accepts connects too), and a backend
 * takes no clients until its first check passes.
 */
export const checkDecides = (check: CheckSpec | undefined): boolean =>
  check !== undefined && check.kind !== "tcp";
