/** The usage text, built from the flag table. */
import { FLAGS, type Flag } from "./flags.js";

const SYNOPSIS = "tcp-fallback [flags] <local-address:port> <remote-address:port>...";

const flagLine = (f: Flag): string => {
  const head = f.placeholder === undefined ? `-${f.name}` : `-${f.name} ${f.placeholder}`;
  const tail = f.defaultText === undefined ? "" : ` (default ${f.defaultText})`;
  return `  ${head.padEnd(26)}${f.help}${tail}`;
};

export const usage: string = [
  `Usage: ${SYNOPSIS}`,
  "",
  "Accepts TCP connections on the local address and relays each one to the first",
  "remote address that is reachable, trying them in the order given. New connections",
  "go back to the first remote as soon as it is reachable again.",
  "",
  "Addresses are host:port, [ipv6]:port or :port (all interfaces when listening,",
  "the local host for a remote).",
  "",
  "Flags:",
  ...FLAGS.map(flagLine),
  `  ${"-h, -help".padEnd(26)}print this help and exit`,
  "",
  "Flags go before the addresses and may be written -flag=value, -flag value,",
  "--flag=value or --flag value; booleans take no value or -flag=true|false.",
  "Durations are written like 300ms, 1.5s, 2m or 1h30m.",
  "",
  "Example:",
  "  tcp-fallback -timeout=2s -stats=1h :3306 db1.example.com:3306 db2.example.com:3306",
  "",
].join("\n");
