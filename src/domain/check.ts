import * as E from "fp-ts/lib/Either.js";
import { checkHttpPath } from "./check-text.js";

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

const PLAIN_KINDS = [
  "tcp",
  "redis",
  "redis-primary",
  "mysql",
  "mysql-primary",
  "pgsql",
  "pgsql-primary",
] as const;

/** Every way to write a check, for error messages and the usage text. */
export const CHECK_SYNTAX = `${PLAIN_KINDS.join(", ")}, http:/PATH or send-expect`;

/**
 * A check as written on the command line: a kind, `http:/PATH`, or `send-expect` (whose text and
 * pattern come from their own settings, so its `send` and `expect` are empty here).
 */
export const parseCheck = (text: string): E.Either<string, CheckSpec> => {
  const plain = PLAIN_KINDS.find((kind) => kind === text);
  if (plain !== undefined) return E.right({ kind: plain } as CheckSpec);
  if (text === "send-expect") return E.right({ kind: "send-expect", send: "", expect: "" });
  if (text.startsWith("http:"))
    return E.map((path: string): CheckSpec => ({ kind: "http", path }))(
      checkHttpPath(text.slice("http:".length)),
    );
  return E.left(`unknown check kind ${JSON.stringify(text)} (expected ${CHECK_SYNTAX})`);
};

/** How a check is written back (logs, the usage text, encoders). */
export const formatCheck = (check: CheckSpec): string =>
  check.kind === "http" ? `http:${check.path}` : check.kind;

/** Whether a check logs in, and so needs the check user and password. */
export const checkLogsIn = (check: CheckSpec): boolean =>
  check.kind === "mysql-primary" || check.kind === "pgsql-primary";
