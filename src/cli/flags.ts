/**
 * The command line's flags, one entry each: its name, usage text, and the raw option it fills.
 * A flag for a library option fills the library's key (`into: "probeDelay"`) and is decoded by
 * the library's codec; the CLI's own options have their codecs in run-options.ts.
 */
import * as E from "fp-ts/lib/Either.js";
import { CHECK_SYNTAX } from "../domain/check.js";
import { unescapeCheckText } from "../domain/check-text.js";
import { defaults } from "../domain/defaults.js";
import { formatDuration, parseDuration } from "../domain/duration.js";
import type { proxyOptionCodecs } from "../domain/proxy-options.js";
import type { cliOptionCodecs } from "./run-options.js";
import type { ScannedFlag } from "./scan.js";

export const DEFAULT_SYSLOG_SOCKET = "/dev/log";

/** The raw options object's keys: the library's option names, and what only the CLI has. */
export type OptionKey = keyof typeof proxyOptionCodecs | keyof typeof cliOptionCodecs;

export interface Flag extends ScannedFlag<OptionKey> {
  /** Shown in the usage text after the name; absent for booleans. */
  readonly placeholder?: string;
  readonly help: string;
  readonly defaultText?: string;
  /** How a value its option's codec refuses is told, in this flag's words (else the codec's). */
  readonly invalid?: string;
}

type ValueSyntax = Pick<Flag, "placeholder" | "read">;

const INTEGER = /^[+-]?[0-9]+$/;

const readInteger = (text: string): E.Either<string, number> =>
  !INTEGER.test(text)
    ? E.left("not an integer")
    : Number.isSafeInteger(Number(text))
      ? E.right(Number(text))
      : E.left("value out of range");

/** A Go duration: its syntax is checked while scanning, its range by the option's codec. */
const offDuration: ValueSyntax = {
  placeholder: "duration",
  read: (text) => E.map(() => text)(parseDuration(text)),
};

/** A Go duration with a default. */
const duration = (defaultMs: number): ValueSyntax & Pick<Flag, "defaultText"> => ({
  ...offDuration,
  defaultText: formatDuration(defaultMs),
});

const integer: ValueSyntax = { placeholder: "n", read: readInteger };

const text = (placeholder: string): ValueSyntax => ({ placeholder, read: E.right });

// An empty path means "not set", as an empty string flag does in the Go program.
const path: ValueSyntax = {
  placeholder: "path",
  read: (given) => E.right(given === "" ? undefined : given),
};

export const FLAGS: ReadonlyArray<Flag> = [
  {
    name: "timeout",
    into: "connectTimeout",
    ...duration(defaults.connectTimeoutMs),
    help: "connect timeout for each backend attempt",
    invalid: "must be positive",
  },
  {
    name: "probe-delay",
    into: "probeDelay",
    ...duration(defaults.probeDelayMs),
    help: "how long to wait before probing a failed backend again",
    invalid: "must be positive",
  },
  {
    name: "check-interval",
    into: "checkInterval",
    ...offDuration,
    help: "check every backend, up ones too, this often (off: only down ones, every -probe-delay)",
    invalid: "must be positive",
  },
  {
    name: "stats",
    into: "statsInterval",
    ...duration(defaults.statsIntervalMs),
    help: "interval between statistics log lines; 0 turns them off",
    invalid: "must not be negative",
  },
  {
    name: "drain-timeout",
    into: "drainTimeout",
    ...duration(defaults.drainTimeoutMs),
    help: "on shutdown, how long open connections may keep running",
    invalid: "must not be negative",
  },
  { name: "debug", into: "debug", help: "log every connection and every failover step" },
  { name: "quiet", into: "quiet", help: "log nothing at all" },
  { name: "syslog", into: "syslog", help: "log to syslog instead of stderr" },
  {
    name: "syslog-socket",
    into: "syslogSocket",
    ...text("path"),
    help: "syslog socket",
    defaultText: JSON.stringify(DEFAULT_SYSLOG_SOCKET),
    invalid: "must not be empty",
  },
  {
    name: "logfile",
    into: "logfile",
    ...path,
    help: "append the log to this file instead of stderr",
  },
  {
    name: "cpuprofile",
    into: "cpuprofile",
    ...path,
    help: "write a V8 CPU profile (.cpuprofile) to this file on exit",
  },
  {
    name: "workers",
    into: "workers",
    placeholder: "n|auto",
    read: (given) => (given === "auto" ? E.right(given) : readInteger(given)),
    help: "worker processes sharing the listener; auto = one per CPU",
    defaultText: "1",
    invalid: 'must be an integer >= 1 or "auto"',
  },
  {
    name: "maxthreads",
    into: "maxthreads",
    ...integer,
    help: "the original's thread cap: without -workers, up to n workers, one per CPU at most",
    invalid: "must be an integer >= 1",
  },
  {
    name: "rise",
    into: "rise",
    ...integer,
    help: "good checks in a row that bring a down backend back",
    defaultText: "1",
    invalid: "must be an integer >= 1",
  },
  {
    name: "fall",
    into: "fall",
    ...integer,
    help: "failures in a row (checks or client connects) that mark a backend down",
    defaultText: "1",
    invalid: "must be an integer >= 1",
  },
  {
    name: "check",
    into: "check",
    ...text("kind"),
    help: `how backends are checked: ${CHECK_SYNTAX}`,
    defaultText: "tcp",
  },
  {
    name: "check-user",
    into: "checkUser",
    ...text("name"),
    help: "who the mysql-primary and pgsql-primary checks log in as (and redis AUTH's user)",
    invalid: "must not be empty",
  },
  {
    name: "check-password-file",
    into: "checkPasswordFile",
    ...path,
    help: "a file holding the checks' password (one trailing newline is ignored); never on the command line",
  },
  {
    name: "check-database",
    into: "checkDatabase",
    ...text("name"),
    help: "the database the login checks connect to (pgsql-primary: postgres by default)",
    invalid: "must not be empty",
  },
  {
    name: "check-send",
    into: "checkSend",
    placeholder: "text",
    read: unescapeCheckText,
    help: "send-expect: what the check sends, with \\r \\n \\t \\0 \\\\ and \\xHH escapes",
  },
  {
    name: "check-expect",
    into: "checkExpect",
    ...text("regex"),
    help: "send-expect: a pattern the first answer must match",
  },
  {
    name: "failback",
    into: "failback",
    ...text("mode"),
    help: "when new clients go back to a recovered primary: immediate, delay:DURATION (once it has stayed up that long), ramp:DURATION (a share of new clients growing from 0 to 100 % over that long) or manual (on SIGUSR2)",
    defaultText: "immediate",
  },
  {
    name: "on-down",
    into: "onDown",
    ...text("mode"),
    help: "open connections of a backend marked down: keep, or close (clients reconnect through the proxy)",
    defaultText: "keep",
    invalid: "must be keep or close",
  },
  {
    name: "on-failback",
    into: "onFailback",
    ...text("mode"),
    help: "connections still on a fallback when new clients go back to an earlier backend: keep, close, or drain:DURATION (closed that long after)",
    defaultText: "keep",
    invalid: "must be keep, close or drain:DURATION above zero",
  },
  {
    name: "hedge",
    into: "hedge",
    ...offDuration,
    help: "if a backend's connect is not done after this long, dial the next backend too and use the first to connect (off by default)",
    invalid: "must be positive",
  },
  {
    name: "admin",
    into: "admin",
    ...text("address"),
    help: "serve the admin HTTP API (status, events, actions) on this address, e.g. 127.0.0.1:9400 (off by default; off loopback it needs -admin-token-file)",
  },
  {
    name: "admin-token-file",
    into: "adminTokenFile",
    ...path,
    help: "a file holding the token every admin request must carry as Authorization: Bearer (one trailing newline is ignored)",
  },
  {
    name: "on-change",
    into: "onChange",
    ...text("command"),
    help: "run this command (split into words with shell-like quotes, no shell) for every change of the route or of a backend's state, the change as a JSON line on stdin and TCP_FALLBACK_* variables; one at a time, each bounded to 10s",
  },
  {
    name: "send-proxy",
    into: "sendProxy",
    ...text("v1|v2"),
    help: "write a PROXY protocol header (v1 text, v2 binary) to each backend before the client's bytes: the client's address and port, and the address it connected to",
  },
  {
    name: "accept-proxy",
    into: "acceptProxy",
    help: "every client must start with a PROXY protocol header (v1 or v2), read within -timeout before routing; a client without one is closed",
  },
  {
    name: "config",
    into: "config",
    ...path,
    help: "read the settings from this YAML or JSON file (keys are the library's option names; flags given override it; the addresses may be left out); SIGHUP and POST /reload reload it, and SIGUSR1 alone reopens -logfile",
  },
  {
    name: "check-config",
    into: "checkConfig",
    help: "with -config: check the file and the flags, print the settings they make, and exit (0 if good, 2 if not) without listening",
  },
  {
    name: "log-format",
    into: "logFormat",
    ...text("format"),
    help: "how stderr and -logfile lines look: text, or json (one object per line: time, level, msg and, for events, event and backend)",
    defaultText: "text",
    invalid: "must be text or json",
  },
  {
    name: "maxconn",
    into: "maxconn",
    ...integer,
    help: "live client connections at most (per worker process with -workers): at the limit accepting pauses, new clients wait in the listen backlog, never reset (off by default)",
    invalid: "must be an integer >= 1",
  },
  {
    name: "backend-maxconn",
    into: "backendMaxconn",
    ...integer,
    help: "live connections each backend takes at most (per worker process with -workers): at the limit new clients go to the next backend in the route (off by default)",
    invalid: "must be an integer >= 1",
  },
  {
    name: "idle-timeout",
    into: "idleTimeout",
    ...offDuration,
    help: "close a connection with no bytes either way for this long (off by default)",
    invalid: "must be positive",
  },
  {
    name: "keepalive",
    into: "keepalive",
    ...offDuration,
    help: "TCP keepalive on client and backend sockets, first probe after this long idle (off by default)",
    invalid: "must be positive",
  },
  {
    name: "fin-timeout",
    into: "finTimeout",
    ...offDuration,
    help: "once one side has half-closed (sent its FIN), close both sides this long after (off by default)",
    invalid: "must be positive",
  },
  { name: "version", into: "version", help: "print the version and exit" },
];
