import * as t from "io-ts";
import type { Address } from "./backend.js";
import { ListenAddress, describe } from "./option-codecs.js";

/** Where the admin HTTP server listens, and the token every request then needs. */
export interface AdminSettings {
  readonly address: Address;
  readonly token?: string | undefined;
  /** Extra routes tried first (metrics, the page), as the admin server takes them. */
  readonly handlers?: ReadonlyArray<(req: never, res: never) => boolean> | undefined;
}

/** Loopback only: 127.0.0.0/8, ::1 and localhost. "" (every interface) is not. */
export const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);

/** A bare port binds loopback: the admin API is never on every interface by accident. */
const adminAddress = (u: unknown, c: t.Context): t.Validation<Address> =>
  typeof u === "number" ? t.success({ host: "127.0.0.1", port: u }) : ListenAddress.validate(u, c);

/** `admin: "127.0.0.1:9400"`, a port, or `{ address, token }`. */
export const AdminOption = new t.Type<AdminSettings, unknown, unknown>(
  "admin",
  (u): u is AdminSettings => typeof u === "object" && u !== null && "address" in u,
  (u, c) => {
    if (typeof u === "string" || typeof u === "number") {
      const address = adminAddress(u, c);
      return address._tag === "Left" ? address : t.success({ address: address.right });
    }
    if (typeof u !== "object" || u === null || !("address" in u))
      return t.failure(
        u,
        c,
        `expected an address like "127.0.0.1:9400" or { address, token }, got ${describe(u)}`,
      );
    const {
      address: given,
      token,
      handlers,
    } = u as {
      address: unknown;
      token?: unknown;
      handlers?: unknown;
    };
    if (
      handlers !== undefined &&
      !(Array.isArray(handlers) && handlers.every((h) => typeof h === "function"))
    )
      return t.failure(u, c, "handlers must be an array of functions (req, res) => boolean");
    if (token !== undefined && (typeof token !== "string" || token === ""))
      return t.failure(u, c, "the token must be a non-empty string");
    const address = adminAddress(given, c);
    if (address._tag === "Left") return address;
    return t.success({
      address: address.right,
      ...(token === undefined ? {} : { token }),
      ...(handlers === undefined ? {} : { handlers: handlers as AdminSettings["handlers"] }),
    });
  },
  (settings) => settings,
);

/**
 * The security rule: an admin API off loopback needs a token. `tokenOption` names where the
 * token comes from, in the caller's words.
 */
export const adminProblem = (
  settings: AdminSettings,
  hasToken: boolean,
  names: { readonly admin: string; readonly token: string },
): string | null =>
  isLoopback(settings.address.host) || hasToken
    ? null
    : `${names.admin}: ${settings.address.host === "" ? "every interface" : settings.address.host} is not loopback: ${names.token} is needed`;
