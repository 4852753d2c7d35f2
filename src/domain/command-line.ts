/**
 * The command line of the original Go program, parsed with the rules of Go's
 * `flag` package so existing service definitions keep working unchanged:
 *
 *   tcp-fallback [flags] <local-address:port> <remote-address:port>...
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { parseAddress } from "./address.js";
import type { Address } from "./backend.js";
import { formatDuration, parseDuration } from "./duration.js";
import { defaults } from "./defaults.js";
import type { ProxySettings } from "./proxy-options.js";

export interface UsageError {
  readonly message: string;
}

/** The proxy's settings plus what only the command line has: logging and profiling. */
export interface RunOptions extends ProxySettings {
  readonly debug: boolean;
  readonly quiet: boolean;
  readonly syslog: boolean;
  readonly syslogSocket: string;
  readonly logfile: string | undefined;
  readonly cpuprofile: string | undefined;
  /** The Go program's thread cap; without -workers, it allows up to one worker per CPU. */
  readonly maxthreads: number | undefined;
  /** Worker processes sharing the listener, as given; absent, -maxthreads decides, else one process. */
  readonly workers: number | "auto" | undefined;
}

export type CommandLine =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | ({ readonly kind: "run" } & RunOptions);

const DEFAULT_CONNECT_TIMEOUT_MS = defaults.connectTimeoutMs;
const DEFAULT_PROBE_DELAY_MS = defaults.probeDelayMs;
const DEFAULT_STATS_INTERVAL_MS = defaults.statsIntervalMs;
const DEFAULT_DRAIN_TIMEOUT_MS = defaults.drainTimeoutMs;
export const DEFAULT_SYSLOG_SOCKET = "/dev/log";

type ValueCheck = (raw: string) => E.Either<string, unknown>;

interface FlagSpec {
  readonly name: string;
  /** Placeholder shown in the usage text; absent for booleans. */
  readonly arg?: string;
  readonly help: string;
  readonly defaultText?: string;
  /** Syntax check run while scanning, where Go's flag.Value.Set would fail. */
  readonly check?: ValueCheck;
}

const INTEGER = /^[+-]?[0-9]+$/;

const checkInteger: ValueCheck = (raw) =>
  !INTEGER.test(raw)
    ? E.left("not an integer")
    : Number.isSafeInteger(Number(raw))
      ? E.right(Number(raw))
      : E.left("value out of range");

const durationFlag = (name: string, help: string, defaultMs: number): FlagSpec => ({
  name,
  arg: "duration",
  help,
  defaultText: formatDuration(defaultMs),
  check: parseDuration,
});

const stringFlag = (name: string, arg: string, help: string, defaultText?: string): FlagSpec => ({
  name,
  arg,
  help,
  ...(defaultText === undefined ? {} : { defaultText }),
  check: E.right,
});

const boolFlag = (name: string, help: string): FlagSpec => ({ name, help });

const FLAGS: ReadonlyArray<FlagSpec> = [
  durationFlag("timeout", "connect timeout for each backend attempt", DEFAULT_CONNECT_TIMEOUT_MS),
  durationFlag(
    "probe-delay",
    "how long to wait before probing a failed backend again",
    DEFAULT_PROBE_DELAY_MS,
  ),
  durationFlag(
    "stats",
    "interval between statistics log lines; 0 turns them off",
    DEFAULT_STATS_INTERVAL_MS,
  ),
  durationFlag(
    "drain-timeout",
    "on shutdown, how long open connections may keep running",
    DEFAULT_DRAIN_TIMEOUT_MS,
  ),
  boolFlag("debug", "log every connection and every failover step"),
  boolFlag("quiet", "log nothing at all"),
  boolFlag("syslog", "log to syslog instead of stderr"),
  stringFlag("syslog-socket", "path", "syslog socket", JSON.stringify(DEFAULT_SYSLOG_SOCKET)),
  stringFlag("logfile", "path", "append the log to this file instead of stderr"),
  stringFlag("cpuprofile", "path", "write a V8 CPU profile (.cpuprofile) to this file on exit"),
  {
    name: "workers",
    arg: "n|auto",
    help: "worker processes sharing the listener; auto = one per CPU",
    defaultText: "1",
    check: (raw) => (raw === "auto" ? E.right(raw) : checkInteger(raw)),
  },
  {
    name: "maxthreads",
    arg: "n",
    help: "the original's thread cap: without -workers, up to n workers, one per CPU at most",
    check: checkInteger,
  },
  boolFlag("version", "print the version and exit"),
];

const FLAG_BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(FLAGS.map((f) => [f.name, f]));

const SYNOPSIS = "tcp-fallback [flags] <local-address:port> <remote-address:port>...";
const NEED_ADDRESSES = "need <listen-address:port> <backend:port>...";

const flagLine = (f: FlagSpec): string => {
  const head = f.arg === undefined ? `-${f.name}` : `-${f.name} ${f.arg}`;
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

/** strconv.ParseBool's accepted spellings. */
const BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ...["1", "t", "T", "TRUE", "true", "True"].map((s) => [s, true] as const),
  ...["0", "f", "F", "FALSE", "false", "False"].map((s) => [s, false] as const),
]);

const q = (s: string): string => JSON.stringify(s);

interface Scan {
  /** Last value given for each value flag (Go lets later flags override earlier ones). */
  readonly values: ReadonlyMap<string, string>;
  readonly bools: ReadonlyMap<string, boolean>;
  readonly positional: ReadonlyArray<string>;
}

type ScanResult = E.Either<string, Scan | "help">;

/** One pass over the flags in Go's order: the first error or help request wins. */
const scanFlags = (argv: ReadonlyArray<string>): ScanResult => {
  const values = new Map<string, string>();
  const bools = new Map<string, boolean>();
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] ?? "";
    // A lone "-" and anything not starting with "-" end the flags.
    if (arg.length < 2 || !arg.startsWith("-")) break;
    if (arg === "--") {
      i++;
      break;
    }
    const body = arg.slice(arg.startsWith("--") ? 2 : 1);
    if (body === "" || body.startsWith("-") || body.startsWith("=")) {
      return E.left(`bad flag syntax: ${arg}`);
    }
    i++;
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);

    const spec = FLAG_BY_NAME.get(name);
    if (spec === undefined) {
      if (name === "h" || name === "help") return E.right("help");
      return E.left(`flag provided but not defined: -${name}`);
    }
    if (spec.check === undefined) {
      // Booleans never take the next argument, so "-debug false" leaves "false" positional.
      const value = inline === undefined ? true : BOOLEANS.get(inline);
      if (value === undefined) {
        return E.left(
          `invalid boolean value ${q(inline ?? "")} for -${name}: must be true or false`,
        );
      }
      bools.set(name, value);
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      raw = argv[i];
      if (raw === undefined) return E.left(`flag needs an argument: -${name}`);
      i++;
    }
    const checked = spec.check(raw);
    if (E.isLeft(checked)) {
      return E.left(`invalid value ${q(raw)} for flag -${name}: ${checked.left}`);
    }
    values.set(name, raw);
  }
  return E.right({ values, bools, positional: argv.slice(i) });
};

type Rule = "positive" | "non-negative";

const durationOption = (
  scan: Scan,
  name: string,
  defaultMs: number,
  rule: Rule,
): E.Either<string, number> => {
  const raw = scan.values.get(name);
  if (raw === undefined) return E.right(defaultMs);
  return pipe(
    parseDuration(raw),
    E.filterOrElse(
      (ms) => (rule === "positive" ? ms > 0 : ms >= 0),
      (): string => (rule === "positive" ? "must be positive" : "must not be negative"),
    ),
    E.mapLeft((why) => `invalid value ${q(raw)} for flag -${name}: ${why}`),
  );
};

const maxthreadsOption = (scan: Scan): E.Either<string, number | undefined> => {
  const raw = scan.values.get("maxthreads");
  if (raw === undefined) return E.right(undefined);
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 1
    ? E.right(n)
    : E.left(`invalid value ${q(raw)} for flag -maxthreads: must be an integer >= 1`);
};

const workersOption = (scan: Scan): E.Either<string, number | "auto" | undefined> => {
  const raw = scan.values.get("workers");
  if (raw === undefined) return E.right(undefined);
  if (raw === "auto") return E.right("auto");
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 1
    ? E.right(n)
    : E.left(`invalid value ${q(raw)} for flag -workers: must be an integer >= 1 or "auto"`);
};

const syslogSocketOption = (scan: Scan): E.Either<string, string> => {
  const raw = scan.values.get("syslog-socket");
  if (raw === undefined) return E.right(DEFAULT_SYSLOG_SOCKET);
  return raw === ""
    ? E.left(`invalid value "" for flag -syslog-socket: must not be empty`)
    : E.right(raw);
};

// An empty path means "not set", as an empty string flag does in the Go program.
const pathOption = (scan: Scan, name: string): string | undefined => {
  const raw = scan.values.get(name);
  return raw === undefined || raw === "" ? undefined : raw;
};

const addressArg = (text: string, role: "listen" | "backend"): E.Either<string, Address> =>
  pipe(
    parseAddress(text, role),
    // Go stops at the first address, so a flag written after it lands here.
    E.mapLeft((why) =>
      text.startsWith("-") ? `${why} (flags must come before the addresses)` : why,
    ),
  );

const addresses = (
  positional: ReadonlyArray<string>,
): E.Either<string, Pick<RunOptions, "listen" | "backends" | "backendLabels">> => {
  const [listenText, ...backendTexts] = positional;
  if (listenText === undefined) return E.left(`no listen address given: ${NEED_ADDRESSES}`);
  if (backendTexts.length === 0) return E.left(`no backend given: ${NEED_ADDRESSES}`);
  return pipe(
    E.Do,
    E.apS("listen", addressArg(listenText, "listen")),
    E.apS("backends", E.traverseArray((t: string) => addressArg(t, "backend"))(backendTexts)),
    E.map(({ listen, backends }) => ({ listen, backends, backendLabels: backendTexts })),
  );
};

const runOptions = (scan: Scan): E.Either<string, RunOptions> =>
  pipe(
    E.Do,
    E.apS(
      "connectTimeoutMs",
      durationOption(scan, "timeout", DEFAULT_CONNECT_TIMEOUT_MS, "positive"),
    ),
    E.apS("probeDelayMs", durationOption(scan, "probe-delay", DEFAULT_PROBE_DELAY_MS, "positive")),
    E.apS(
      "statsIntervalMs",
      durationOption(scan, "stats", DEFAULT_STATS_INTERVAL_MS, "non-negative"),
    ),
    E.apS(
      "drainTimeoutMs",
      durationOption(scan, "drain-timeout", DEFAULT_DRAIN_TIMEOUT_MS, "non-negative"),
    ),
    E.apS("syslogSocket", syslogSocketOption(scan)),
    E.apS("maxthreads", maxthreadsOption(scan)),
    E.apS("workers", workersOption(scan)),
    E.bind("addresses", () => addresses(scan.positional)),
    E.map(({ addresses: a, ...rest }) => ({
      ...rest,
      ...a,
      debug: scan.bools.get("debug") ?? false,
      quiet: scan.bools.get("quiet") ?? false,
      syslog: scan.bools.get("syslog") ?? false,
      logfile: pathOption(scan, "logfile"),
      cpuprofile: pathOption(scan, "cpuprofile"),
    })),
  );

/**
 * Parses the arguments after the program name. Flags are checked in order and
 * the first problem is reported; "-h"/"-help" among the flags asks for help and
 * "-version" for the version, both before the addresses are looked at.
 */
export const parseCommandLine = (argv: ReadonlyArray<string>): E.Either<UsageError, CommandLine> =>
  pipe(
    scanFlags(argv),
    E.chain((scan): E.Either<string, CommandLine> => {
      if (scan === "help") return E.right({ kind: "help" });
      if (scan.bools.get("version") === true) return E.right({ kind: "version" });
      return E.map((options: RunOptions) => ({ kind: "run" as const, ...options }))(
        runOptions(scan),
      );
    }),
    E.mapLeft((message) => ({ message })),
  );

/** How many processes serve, and what the log says about it. */
export interface WorkerPlan {
  /** Worker processes; 1 runs everything in one process. */
  readonly count: number;
  /** How many run and which flag decided; absent when no flag asked for workers. */
  readonly note: string | undefined;
  /** Set when -workers asks for more workers than there are CPUs. */
  readonly warning: string | undefined;
}

/**
 * The worker count from -workers, else -maxthreads (the original's thread cap, which old
 * command lines carry at 4 or more: it allows no more workers than CPUs), else one process.
 */
export const workerPlan = (
  options: Pick<RunOptions, "workers" | "maxthreads">,
  cpus: number,
): WorkerPlan => {
  const { workers, maxthreads } = options;
  // The count, the flag that decided it, and whether that flag asked for more than one process.
  const [count, flag, askedForMore]: [number, string | undefined, boolean] =
    workers === "auto"
      ? [cpus, "-workers=auto", true]
      : workers !== undefined
        ? [workers, `-workers=${workers}`, workers > 1]
        : maxthreads !== undefined
          ? [Math.min(maxthreads, cpus), `-maxthreads=${maxthreads}`, maxthreads > 1]
          : [1, undefined, false];
  const cpuText = `${cpus} CPU${cpus === 1 ? "" : "s"}`;
  const why = `(${flag}, ${cpuText})`;
  return {
    count,
    note:
      count > 1
        ? `Starting ${count} worker processes ${why}`
        : askedForMore
          ? `Running in one process ${why}`
          : undefined,
    warning:
      typeof workers === "number" && workers > cpus
        ? `-workers=${workers} is more than the ${cpuText}: workers will share CPUs`
        : undefined,
  };
};
