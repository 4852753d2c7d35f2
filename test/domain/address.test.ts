import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { parseAddress } from "../../src/domain/address.js";

type Role = "listen" | "backend";

const accepted: ReadonlyArray<readonly [string, Role, string, number]> = [
  ["db1:3306", "backend", "db1", 3306],
  ["db1.example.com:5432", "backend", "db1.example.com", 5432],
  ["my_host-2:80", "backend", "my_host-2", 80],
  ["10.0.0.7:6379", "backend", "10.0.0.7", 6379],
  ["[::1]:6379", "backend", "::1", 6379],
  ["[2001:db8::7]:443", "backend", "2001:db8::7", 443],
  ["[fe80::1%eth0]:22", "backend", "fe80::1%eth0", 22],
  ["[::ffff:10.0.0.1]:80", "backend", "::ffff:10.0.0.1", 80],
  ["localhost:65535", "backend", "localhost", 65535],
  ["localhost:1", "backend", "localhost", 1],
  ["db1:0080", "backend", "db1", 80],
  // Go dials ":port" on the local host.
  [":3306", "backend", "127.0.0.1", 3306],
  // "" listens on all interfaces.
  [":3306", "listen", "", 3306],
  [":0", "listen", "", 0],
  ["127.0.0.1:0", "listen", "127.0.0.1", 0],
  ["0.0.0.0:8080", "listen", "0.0.0.0", 8080],
  ["[::]:8080", "listen", "::", 8080],
  ["[::1]:0", "listen", "::1", 0],
  ["localhost:65535", "listen", "localhost", 65535],
];

test("parseAddress accepts host:port, [ipv6]:port and :port", (t) => {
  for (const [text, role, host, port] of accepted) {
    t.deepEqual(parseAddress(text, role), E.right({ host, port }), `${role} ${text}`);
  }
});

const rejected: ReadonlyArray<readonly [string, Role, string]> = [
  ["", "backend", 'invalid backend address "": empty'],
  ["", "listen", 'invalid listen address "": empty'],
  ["db1", "backend", 'invalid backend address "db1": missing port'],
  ["db1:", "backend", 'invalid backend address "db1:": missing port'],
  [":", "listen", 'invalid listen address ":": missing port'],
  ["db1:0", "backend", 'invalid backend address "db1:0": port must be 1-65535'],
  [":0", "backend", 'invalid backend address ":0": port must be 1-65535'],
  ["db1:65536", "backend", 'invalid backend address "db1:65536": port must be 1-65535'],
  ["x:70000", "listen", 'invalid listen address "x:70000": port must be 0-65535'],
  [
    "x:99999999999999999999",
    "listen",
    'invalid listen address "x:99999999999999999999": port must be 0-65535',
  ],
  ["db1:abc", "backend", 'invalid backend address "db1:abc": port "abc" is not a decimal number'],
  ["db1:-1", "backend", 'invalid backend address "db1:-1": port "-1" is not a decimal number'],
  ["db1:+80", "backend", 'invalid backend address "db1:+80": port "+80" is not a decimal number'],
  ["db1:8.0", "listen", 'invalid listen address "db1:8.0": port "8.0" is not a decimal number'],
  [
    "db1:0x50",
    "backend",
    'invalid backend address "db1:0x50": port "0x50" is not a decimal number',
  ],
  [
    "::1:80",
    "backend",
    'invalid backend address "::1:80": too many colons (write IPv6 addresses as [host]:port)',
  ],
  [
    "2001:db8::1:443",
    "listen",
    'invalid listen address "2001:db8::1:443": too many colons (write IPv6 addresses as [host]:port)',
  ],
  ["[::1]", "backend", 'invalid backend address "[::1]": missing port'],
  ["[::1", "backend", "invalid backend address \"[::1\": missing ']'"],
  ["[::1]80", "backend", 'invalid backend address "[::1]80": missing port'],
  ["[::1]:80:90", "backend", 'invalid backend address "[::1]:80:90": too many colons'],
  ["[[::1]:80", "backend", "invalid backend address \"[[::1]:80\": unexpected '['"],
  ["[::1]]:80", "backend", 'invalid backend address "[::1]]:80": missing port'],
  ["db1]:80", "backend", "invalid backend address \"db1]:80\": unexpected ']'"],
  ["db[1:80", "backend", "invalid backend address \"db[1:80\": unexpected '['"],
  ["[db1]:80", "backend", 'invalid backend address "[db1]:80": invalid IPv6 address "db1"'],
  ["[]:80", "listen", 'invalid listen address "[]:80": invalid IPv6 address ""'],
  ["db 1:80", "backend", 'invalid backend address "db 1:80": contains whitespace'],
  [" db1:80", "backend", 'invalid backend address " db1:80": contains whitespace'],
  ["db1:80 ", "backend", 'invalid backend address "db1:80 ": contains whitespace'],
  ["db1: 80", "listen", 'invalid listen address "db1: 80": contains whitespace'],
  ["db/1:80", "backend", 'invalid backend address "db/1:80": invalid host "db/1"'],
  ["-debug", "backend", 'invalid backend address "-debug": missing port'],
];

test("parseAddress rejects malformed addresses, naming the role and the value", (t) => {
  for (const [text, role, message] of rejected) {
    t.deepEqual(parseAddress(text, role), E.left(message), `${role} ${JSON.stringify(text)}`);
  }
});

test("port 0 is allowed only for listening", (t) => {
  t.true(E.isRight(parseAddress("localhost:0", "listen")));
  t.true(E.isLeft(parseAddress("localhost:0", "backend")));
});
