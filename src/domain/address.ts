/**
 * Parses "host:port" command-line addresses the way Go's net.SplitHostPort
 * splits them, with the port restricted to a decimal number.
 */
import * as E from "fp-ts/lib/Either.js";
import type { Address } from "./backend.js";

export type AddressRole = "listen" | "backend";

// Hostnames, IPv4 literals and "_"-containing names found in container setups.
const HOSTNAME = /^[A-Za-z0-9._-]+$/;
// IPv6 literal, optionally with an IPv4 tail and a zone ("fe80::1%eth0").
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9._-]+)?$/;

interface HostPort {
  readonly host: string;
  readonly port: string;
  readonly bracketed: boolean;
}

/** Splits at the last colon; IPv6 hosts must be bracketed so the port is unambiguous. */
const splitHostPort = (text: string): E.Either<string, HostPort> => {
  const lastColon = text.lastIndexOf(":");
  if (lastColon < 0) return E.left("missing port");
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) return E.left("missing ']'");
    if (end + 1 === text.length) return E.left("missing port");
    if (end + 1 !== lastColon) {
      return E.left(text[end + 1] === ":" ? "too many colons" : "missing port");
    }
    if (text.indexOf("[", 1) >= 0) return E.left("unexpected '['");
    if (text.indexOf("]", end + 1) >= 0) return E.left("unexpected ']'");
    return E.right({ host: text.slice(1, end), port: text.slice(lastColon + 1), bracketed: true });
  }
  const host = text.slice(0, lastColon);
  if (host.includes(":")) return E.left("too many colons (write IPv6 addresses as [host]:port)");
  if (text.includes("[")) return E.left("unexpected '['");
  if (text.includes("]")) return E.left("unexpected ']'");
  return E.right({ host, port: text.slice(lastColon + 1), bracketed: false });
};

const checkHost = ({ host, bracketed }: HostPort): E.Either<string, string> => {
  if (bracketed) {
    return IPV6.test(host) ? E.right(host) : E.left(`invalid IPv6 address "${host}"`);
  }
  return host === "" || HOSTNAME.test(host) ? E.right(host) : E.left(`invalid host "${host}"`);
};

const checkPort = (port: string, role: AddressRole): E.Either<string, number> => {
  if (port === "") return E.left("missing port");
  if (!/^[0-9]+$/.test(port)) return E.left(`port "${port}" is not a decimal number`);
  const n = Number(port);
  // Listeners may ask for an ephemeral port; a backend on port 0 is unreachable.
  const min = role === "listen" ? 0 : 1;
  return n >= min && n <= 65535 ? E.right(n) : E.left(`port must be ${min}-65535`);
};

/**
 * Parses "host:port", "[ipv6]:port" or ":port".
 * ":port" means all interfaces for a listener and the local host for a backend,
 * matching how Go listens on and dials such addresses.
 */
export const parseAddress = (text: string, role: AddressRole): E.Either<string, Address> => {
  const fail = (why: string): E.Either<string, Address> =>
    E.left(`invalid ${role} address ${JSON.stringify(text)}: ${why}`);
  if (text === "") return fail("empty");
  if (/\s/.test(text)) return fail("contains whitespace");
  const split = splitHostPort(text);
  if (E.isLeft(split)) return fail(split.left);
  const host = checkHost(split.right);
  if (E.isLeft(host)) return fail(host.left);
  const port = checkPort(split.right.port, role);
  if (E.isLeft(port)) return fail(port.left);
  const resolvedHost = host.right === "" && role === "backend" ? "127.0.0.1" : host.right;
  return E.right({ host: resolvedHost, port: port.right });
};
