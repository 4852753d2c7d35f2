import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import {
  type CommandLine,
  type RunOptions,
  parseCommandLine,
  usage,
  workerPlan,
} from "../../src/domain/command-line.js";

const ADDRS = [":3306", "db1:3306", "db2:3306"] as const;

const run = (argv: ReadonlyArray<string>): RunOptions => {
  const parsed = parseCommandLine(argv);
  if (E.isLeft(parsed)) throw new Error(`${argv.join(" ")}: ${parsed.left.message}`);
  if (parsed.right.kind !== "run") throw new Error(`${argv.join(" ")}: ${parsed.right.kind}`);
  return parsed.right;
};

const kindOf = (argv: ReadonlyArray<string>): CommandLine["kind"] | "error" => {
  const parsed = parseCommandLine(argv);
  return E.isLeft(parsed) ? "error" : parsed.right.kind;
};

const errorOf = (argv: ReadonlyArray<string>): string => {
  const parsed = parseCommandLine(argv);
  if (E.isRight(parsed)) throw new Error(`${argv.join(" ")}: expected an error`);
  return parsed.left.message;
};

test("defaults", (t) => {
  t.deepEqual(parseCommandLine(ADDRS), {
    _tag: "Right",
    right: {
      kind: "run",
      listen: { host: "", port: 3306 },
      backends: [
        { host: "db1", port: 3306 },
        { host: "db2", port: 3306 },
      ],
      backendLabels: ["db1:3306", "db2:3306"],
      connectTimeoutMs: 5_000,
      probeDelayMs: 30_000,
      statsIntervalMs: 900_000,
      drainTimeoutMs: 10_000,
      debug: false,
      quiet: false,
      syslog: false,
      syslogSocket: "/dev/log",
      logfile: undefined,
      cpuprofile: undefined,
      maxthreads: undefined,
      workers: undefined,
    },
  });
});

test("addresses: listen first, backends in order with labels as written", (t) => {
  const o = run(["127.0.0.1:0", "[::1]:6379", ":6380", "cache:0006379"]);
  t.deepEqual(o.listen, { host: "127.0.0.1", port: 0 });
  t.deepEqual(o.backends, [
    { host: "::1", port: 6379 },
    { host: "127.0.0.1", port: 6380 },
    { host: "cache", port: 6379 },
  ]);
  t.deepEqual(o.backendLabels, ["[::1]:6379", ":6380", "cache:0006379"]);
});

test("a single backend is enough", (t) => {
  t.deepEqual(run([":80", "web:8080"]).backends, [{ host: "web", port: 8080 }]);
});

test("value flags in every Go syntax", (t) => {
  for (const flag of [["-timeout=2s"], ["-timeout", "2s"], ["--timeout=2s"], ["--timeout", "2s"]]) {
    t.is(run([...flag, ...ADDRS]).connectTimeoutMs, 2_000, flag.join(" "));
  }
});

test("every value flag", (t) => {
  const o = run([
    "-timeout=1.5s",
    "-probe-delay",
    "1m",
    "--stats=1h30m",
    "--drain-timeout",
    "250ms",
    "-syslog-socket=/var/run/syslog",
    "-logfile",
    "/var/log/tcp-fallback.log",
    "-cpuprofile=/tmp/cpu.prof",
    "-maxthreads=8",
    ...ADDRS,
  ]);
  t.is(o.connectTimeoutMs, 1_500);
  t.is(o.probeDelayMs, 60_000);
  t.is(o.statsIntervalMs, 5_400_000);
  t.is(o.drainTimeoutMs, 250);
  t.is(o.syslogSocket, "/var/run/syslog");
  t.is(o.logfile, "/var/log/tcp-fallback.log");
  t.is(o.cpuprofile, "/tmp/cpu.prof");
  t.is(o.maxthreads, 8);
});

test("zero is allowed for -stats (off) and -drain-timeout", (t) => {
  const o = run(["-stats=0", "-drain-timeout", "0s", ...ADDRS]);
  t.is(o.statsIntervalMs, 0);
  t.is(o.drainTimeoutMs, 0);
});

test("sub-millisecond durations stay fractional", (t) => {
  t.is(run(["-timeout=500us", ...ADDRS]).connectTimeoutMs, 0.5);
});

test("a value flag takes the next argument even if it starts with '-'", (t) => {
  t.is(run(["-logfile", "-weird-name", ...ADDRS]).logfile, "-weird-name");
});

test("a value may contain '='", (t) => {
  t.is(run(["-logfile=/tmp/a=b", ...ADDRS]).logfile, "/tmp/a=b");
});

test("an empty path means not set", (t) => {
  const o = run(["-logfile=", "-cpuprofile", "", ...ADDRS]);
  t.is(o.logfile, undefined);
  t.is(o.cpuprofile, undefined);
});

test("the last occurrence of a flag wins", (t) => {
  const o = run(["-timeout=0", "-timeout=3s", "-debug", "-debug=false", ...ADDRS]);
  t.is(o.connectTimeoutMs, 3_000);
  t.false(o.debug);
});

test("boolean flags bare and with every strconv.ParseBool spelling", (t) => {
  for (const name of ["debug", "quiet", "syslog"] as const) {
    t.true(run([`-${name}`, ...ADDRS])[name], name);
    t.true(run([`--${name}`, ...ADDRS])[name], `--${name}`);
    t.false(run(ADDRS)[name], `${name} default`);
    for (const v of ["1", "t", "T", "TRUE", "true", "True"]) {
      t.true(run([`-${name}=${v}`, ...ADDRS])[name], `${name}=${v}`);
    }
    for (const v of ["0", "f", "F", "FALSE", "false", "False"]) {
      t.false(run([`--${name}=${v}`, ...ADDRS])[name], `${name}=${v}`);
    }
  }
});

test("a boolean never consumes the next argument", (t) => {
  const o = run(["-debug", ":80", "db1:80"]);
  t.true(o.debug);
  t.deepEqual(o.listen, { host: "", port: 80 });
  // "false" ends the flags and becomes the listen address.
  t.regex(errorOf(["-debug", "false", ":80", "db1:80"]), /invalid listen address "false"/);
});

test("flags stop at the first positional argument", (t) => {
  const message = errorOf([":80", "db1:80", "-debug"]);
  t.regex(message, /invalid backend address "-debug": missing port/);
  t.regex(message, /flags must come before the addresses/);
});

test("'--' ends the flags and is consumed", (t) => {
  t.deepEqual(run(["-debug", "--", ...ADDRS]).backendLabels, ["db1:3306", "db2:3306"]);
  t.regex(errorOf(["--", "-debug", ...ADDRS]), /invalid listen address "-debug"/);
  t.regex(errorOf(["--", "--", ...ADDRS]), /invalid listen address "--"/);
});

test("a lone '-' is positional", (t) => {
  t.regex(errorOf(["-", "db1:80"]), /invalid listen address "-": missing port/);
  t.regex(errorOf([":80", "-"]), /invalid backend address "-": missing port/);
});

test("help in every spelling, anywhere among the flags", (t) => {
  for (const argv of [
    ["-h"],
    ["-help"],
    ["--help"],
    ["--h"],
    ["-help=1"],
    ["-debug", "-h"],
    ["-timeout", "2s", "--help", ...ADDRS],
    ["-h", "-nonsense"],
    ["-h", "-timeout=5x"],
    // Help wins over range checks done after scanning.
    ["-timeout=0", "-h"],
  ]) {
    t.deepEqual(parseCommandLine(argv), E.right({ kind: "help" }), argv.join(" "));
  }
});

test("help after an earlier error reports the error, as Go does", (t) => {
  t.regex(errorOf(["-nonsense", "-h"]), /-nonsense/);
  t.regex(errorOf(["-timeout=5x", "-h"]), /"5x"/);
});

test("help after the addresses is not a flag", (t) => {
  t.is(kindOf([":80", "db1:80", "-h"]), "error");
});

test("version", (t) => {
  for (const argv of [
    ["-version"],
    ["--version"],
    ["-version=true"],
    ["-debug", "--version"],
    ["--version", ...ADDRS],
    // The version needs no addresses, and invalid ones do not matter.
    ["-version", "garbage"],
  ]) {
    t.deepEqual(parseCommandLine(argv), E.right({ kind: "version" }), argv.join(" "));
  }
  t.is(kindOf(["-version=false", ...ADDRS]), "run");
  t.is(kindOf(["-version=false"]), "error");
});

test("unknown flags", (t) => {
  t.is(errorOf(["-foo", ...ADDRS]), "flag provided but not defined: -foo");
  t.is(errorOf(["--foo=1", ...ADDRS]), "flag provided but not defined: -foo");
  t.is(errorOf(["-Debug", ...ADDRS]), "flag provided but not defined: -Debug");
  t.is(errorOf(["-5", ...ADDRS]), "flag provided but not defined: -5");
});

test("bad flag syntax", (t) => {
  t.is(errorOf(["---debug", ...ADDRS]), "bad flag syntax: ---debug");
  t.is(errorOf(["-=1", ...ADDRS]), "bad flag syntax: -=1");
  t.is(errorOf(["--=1", ...ADDRS]), "bad flag syntax: --=1");
});

test("missing flag values", (t) => {
  for (const name of [
    "timeout",
    "probe-delay",
    "stats",
    "drain-timeout",
    "syslog-socket",
    "logfile",
    "cpuprofile",
    "maxthreads",
  ]) {
    t.is(errorOf([`-${name}`]), `flag needs an argument: -${name}`);
    t.is(errorOf(["-debug", `--${name}`]), `flag needs an argument: -${name}`);
  }
});

test("malformed durations name the flag and the value", (t) => {
  t.is(
    errorOf(["-timeout", "5x", ...ADDRS]),
    'invalid value "5x" for flag -timeout: unknown unit "x" in duration "5x"',
  );
  t.is(
    errorOf(["-probe-delay=30", ...ADDRS]),
    'invalid value "30" for flag -probe-delay: missing unit in duration "30"',
  );
  t.is(errorOf(["--stats=", ...ADDRS]), 'invalid value "" for flag -stats: invalid duration ""');
  t.is(
    errorOf(["--drain-timeout", "soon", ...ADDRS]),
    'invalid value "soon" for flag -drain-timeout: invalid duration "soon"',
  );
});

test("durations out of range", (t) => {
  const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
    [["-timeout=0"], 'invalid value "0" for flag -timeout: must be positive'],
    [["-timeout", "-1s"], 'invalid value "-1s" for flag -timeout: must be positive'],
    [["-probe-delay=0s"], 'invalid value "0s" for flag -probe-delay: must be positive'],
    [["-probe-delay=-5m"], 'invalid value "-5m" for flag -probe-delay: must be positive'],
    [["-stats", "-1s"], 'invalid value "-1s" for flag -stats: must not be negative'],
    [["-drain-timeout=-1ns"], 'invalid value "-1ns" for flag -drain-timeout: must not be negative'],
  ];
  for (const [flags, message] of cases) {
    t.is(errorOf([...flags, ...ADDRS]), message, flags.join(" "));
  }
});

test("-maxthreads must be an integer >= 1", (t) => {
  t.is(run(["-maxthreads", "1", ...ADDRS]).maxthreads, 1);
  t.is(run(["-maxthreads=+4", ...ADDRS]).maxthreads, 4);
  t.is(
    errorOf(["-maxthreads=abc", ...ADDRS]),
    'invalid value "abc" for flag -maxthreads: not an integer',
  );
  t.is(
    errorOf(["-maxthreads=1.5", ...ADDRS]),
    'invalid value "1.5" for flag -maxthreads: not an integer',
  );
  t.is(
    errorOf(["-maxthreads=", ...ADDRS]),
    'invalid value "" for flag -maxthreads: not an integer',
  );
  t.is(
    errorOf(["-maxthreads=99999999999999999999", ...ADDRS]),
    'invalid value "99999999999999999999" for flag -maxthreads: value out of range',
  );
  t.is(
    errorOf(["-maxthreads=0", ...ADDRS]),
    'invalid value "0" for flag -maxthreads: must be an integer >= 1',
  );
  t.is(
    errorOf(["-maxthreads", "-2", ...ADDRS]),
    'invalid value "-2" for flag -maxthreads: must be an integer >= 1',
  );
});

test("-syslog-socket must not be empty", (t) => {
  t.is(
    errorOf(["-syslog-socket=", ...ADDRS]),
    'invalid value "" for flag -syslog-socket: must not be empty',
  );
});

test("bad boolean values", (t) => {
  t.is(
    errorOf(["-debug=yes", ...ADDRS]),
    'invalid boolean value "yes" for -debug: must be true or false',
  );
  t.is(
    errorOf(["--quiet=", ...ADDRS]),
    'invalid boolean value "" for -quiet: must be true or false',
  );
  t.is(
    errorOf(["-syslog=tRuE", ...ADDRS]),
    'invalid boolean value "tRuE" for -syslog: must be true or false',
  );
  t.regex(errorOf(["-version=2"]), /invalid boolean value "2" for -version/);
});

test("flag errors are reported in argument order", (t) => {
  t.regex(errorOf(["-foo", "-timeout=5x", ...ADDRS]), /-foo/);
  t.regex(errorOf(["-timeout=5x", "-foo", ...ADDRS]), /"5x"/);
  // Syntax errors come before range checks, as in Go where validation follows flag.Parse.
  t.regex(errorOf(["-timeout=0", "-foo", ...ADDRS]), /-foo/);
});

test("missing addresses", (t) => {
  t.is(errorOf([]), "no listen address given: need <listen-address:port> <backend:port>...");
  t.is(
    errorOf(["-debug"]),
    "no listen address given: need <listen-address:port> <backend:port>...",
  );
  t.is(errorOf([":80"]), "no backend given: need <listen-address:port> <backend:port>...");
  t.is(
    errorOf(["-debug", "--", ":80"]),
    "no backend given: need <listen-address:port> <backend:port>...",
  );
});

test("bad addresses are reported by role", (t) => {
  t.is(errorOf(["db1", "db2:80"]), 'invalid listen address "db1": missing port');
  t.is(
    errorOf([":80", "db1:80", "db2:0"]),
    'invalid backend address "db2:0": port must be 1-65535',
  );
  t.is(errorOf(["x:70000", "db1:80"]), 'invalid listen address "x:70000": port must be 0-65535');
  t.regex(errorOf([":80", "::1:80"]), /invalid backend address "::1:80": too many colons/);
});

test("the usage text lists every flag with its default and an example", (t) => {
  t.regex(usage, /tcp-fallback \[flags\] <local-address:port> <remote-address:port>\.\.\./);
  for (const name of [
    "timeout",
    "probe-delay",
    "stats",
    "drain-timeout",
    "debug",
    "quiet",
    "syslog",
    "syslog-socket",
    "logfile",
    "cpuprofile",
    "maxthreads",
    "version",
    "help",
  ]) {
    t.regex(usage, new RegExp(`^ +(-h, )?-${name}\\b`, "m"), name);
  }
  t.regex(usage, /-timeout duration .*\(default 5s\)/);
  t.regex(usage, /-probe-delay duration .*\(default 30s\)/);
  t.regex(usage, /-stats duration .*\(default 15m0s\)/);
  t.regex(usage, /-drain-timeout duration .*\(default 10s\)/);
  t.regex(usage, /-syslog-socket path .*\(default "\/dev\/log"\)/);
  t.regex(usage, /Example:\n +tcp-fallback .+:\d+ .+:\d+/);
});

test("the usage example parses", (t) => {
  const line = /Example:\n +tcp-fallback (.+)/.exec(usage)?.[1];
  t.truthy(line);
  t.is(kindOf((line ?? "").split(" ")), "run");
});

test("-workers takes a count or auto; -maxthreads is kept apart for the plan", (t) => {
  t.is(run(["-workers=4", ...ADDRS]).workers, 4);
  t.is(run(["--workers", "auto", ...ADDRS]).workers, "auto");
  t.is(run(["-maxthreads=3", ...ADDRS]).workers, undefined);
  t.is(run(["-maxthreads=3", "-workers=2", ...ADDRS]).workers, 2);
  t.is(run([...ADDRS]).workers, undefined);
  t.is(
    errorOf(["-workers=0", ...ADDRS]),
    'invalid value "0" for flag -workers: must be an integer >= 1 or "auto"',
  );
  t.is(
    errorOf(["-workers=many", ...ADDRS]),
    'invalid value "many" for flag -workers: not an integer',
  );
});

test("worker plan: -maxthreads allows one worker per CPU at most, and says why", (t) => {
  t.deepEqual(workerPlan({ workers: undefined, maxthreads: 64 }, 2), {
    count: 2,
    note: "Starting 2 worker processes (-maxthreads=64, 2 CPUs)",
    warning: undefined,
  });
  t.deepEqual(workerPlan({ workers: undefined, maxthreads: 3 }, 8), {
    count: 3,
    note: "Starting 3 worker processes (-maxthreads=3, 8 CPUs)",
    warning: undefined,
  });
  // Lowered to one process by the CPU count: said, since the flag asked for more.
  t.deepEqual(workerPlan({ workers: undefined, maxthreads: 4 }, 1), {
    count: 1,
    note: "Running in one process (-maxthreads=4, 1 CPU)",
    warning: undefined,
  });
  t.deepEqual(workerPlan({ workers: undefined, maxthreads: 1 }, 2), {
    count: 1,
    note: undefined,
    warning: undefined,
  });
});

test("worker plan: -workers is honoured above the CPU count, with a warning, and wins over -maxthreads", (t) => {
  t.deepEqual(workerPlan({ workers: 8, maxthreads: undefined }, 2), {
    count: 8,
    note: "Starting 8 worker processes (-workers=8, 2 CPUs)",
    warning: "-workers=8 is more than the 2 CPUs: workers will share CPUs",
  });
  t.deepEqual(workerPlan({ workers: 2, maxthreads: 64 }, 2), {
    count: 2,
    note: "Starting 2 worker processes (-workers=2, 2 CPUs)",
    warning: undefined,
  });
  t.deepEqual(workerPlan({ workers: 1, maxthreads: 64 }, 2), {
    count: 1,
    note: undefined,
    warning: undefined,
  });
});

test("worker plan: -workers=auto is one per CPU; no flag is one process, silently", (t) => {
  t.deepEqual(workerPlan({ workers: "auto", maxthreads: undefined }, 4), {
    count: 4,
    note: "Starting 4 worker processes (-workers=auto, 4 CPUs)",
    warning: undefined,
  });
  t.deepEqual(workerPlan({ workers: "auto", maxthreads: undefined }, 1), {
    count: 1,
    note: "Running in one process (-workers=auto, 1 CPU)",
    warning: undefined,
  });
  t.deepEqual(workerPlan({ workers: undefined, maxthreads: undefined }, 2), {
    count: 1,
    note: undefined,
    warning: undefined,
  });
});
