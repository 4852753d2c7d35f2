import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { type CommandLine, parseCommandLine } from "../../src/cli/parse.js";
import type { RunOptions } from "../../src/cli/run-options.js";

const ADDRS = [":3306", "db1:3306", "db2:3306"] as const;

const run = async (argv: ReadonlyArray<string>): Promise<RunOptions> => {
  const parsed = await parseCommandLine(argv);
  if (E.isLeft(parsed)) throw new Error(`${argv.join(" ")}: ${parsed.left.message}`);
  if (parsed.right.kind !== "run") throw new Error(`${argv.join(" ")}: ${parsed.right.kind}`);
  return parsed.right;
};

const kindOf = async (argv: ReadonlyArray<string>): Promise<CommandLine["kind"] | "error"> => {
  const parsed = await parseCommandLine(argv);
  return E.isLeft(parsed) ? "error" : parsed.right.kind;
};

const errorOf = async (argv: ReadonlyArray<string>): Promise<string> => {
  const parsed = await parseCommandLine(argv);
  if (E.isRight(parsed)) throw new Error(`${argv.join(" ")}: expected an error`);
  return parsed.left.message;
};

test("defaults", async (t) => {
  t.deepEqual(await parseCommandLine(ADDRS), {
    _tag: "Right",
    right: {
      kind: "run",
      listen: { host: "", port: 3306 },
      backends: [
        { address: { host: "db1", port: 3306 }, label: "db1:3306" },
        { address: { host: "db2", port: 3306 }, label: "db2:3306" },
      ],
      connectTimeoutMs: 5_000,
      hedgeMs: undefined,
      probeDelayMs: 30_000,
      checkIntervalMs: undefined,
      statsIntervalMs: 900_000,
      drainTimeoutMs: 10_000,
      onDown: "keep",
      onFailback: { kind: "keep" },
      rise: 1,
      fall: 1,
      check: { kind: "tcp" },
      checkCredentials: { user: undefined, password: undefined, database: undefined },
      debug: false,
      quiet: false,
      syslog: false,
      syslogSocket: "/dev/log",
      logfile: undefined,
      cpuprofile: undefined,
      maxthreads: undefined,
      workers: undefined,
      failback: { kind: "immediate" },
      checkPasswordFile: undefined,
      logFormat: "text",
    },
  });
});

test("-log-format: text or json, anything else named in the error", async (t) => {
  t.is((await run(["-log-format=json", ...ADDRS])).logFormat, "json");
  t.is((await run(["-log-format", "text", ...ADDRS])).logFormat, "text");
  t.is(
    await errorOf(["-log-format=xml", ...ADDRS]),
    'invalid value "xml" for flag -log-format: must be text or json',
  );
  t.is(
    await errorOf(["-log-format=JSON", ...ADDRS]),
    'invalid value "JSON" for flag -log-format: must be text or json',
  );
  t.is(await errorOf(["-log-format"]), "flag needs an argument: -log-format");
});

test("addresses: listen first, backends in order with labels as written", async (t) => {
  const o = await run(["127.0.0.1:0", "[::1]:6379", ":6380", "cache:0006379"]);
  t.deepEqual(o.listen, { host: "127.0.0.1", port: 0 });
  t.deepEqual(o.backends, [
    { address: { host: "::1", port: 6379 }, label: "[::1]:6379" },
    { address: { host: "127.0.0.1", port: 6380 }, label: ":6380" },
    { address: { host: "cache", port: 6379 }, label: "cache:0006379" },
  ]);
});

test("a single backend is enough", async (t) => {
  t.deepEqual((await run([":80", "web:8080"])).backends, [
    { address: { host: "web", port: 8080 }, label: "web:8080" },
  ]);
});

test("value flags in every Go syntax", async (t) => {
  for (const flag of [["-timeout=2s"], ["-timeout", "2s"], ["--timeout=2s"], ["--timeout", "2s"]]) {
    t.is((await run([...flag, ...ADDRS])).connectTimeoutMs, 2_000, flag.join(" "));
  }
});

test("every value flag", async (t) => {
  const o = await run([
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

test("zero is allowed for -stats (off) and -drain-timeout", async (t) => {
  const o = await run(["-stats=0", "-drain-timeout", "0s", ...ADDRS]);
  t.is(o.statsIntervalMs, 0);
  t.is(o.drainTimeoutMs, 0);
});

test("sub-millisecond durations stay fractional", async (t) => {
  t.is((await run(["-timeout=500us", ...ADDRS])).connectTimeoutMs, 0.5);
});

test("a value flag takes the next argument even if it starts with '-'", async (t) => {
  t.is((await run(["-logfile", "-weird-name", ...ADDRS])).logfile, "-weird-name");
});

test("a value may contain '='", async (t) => {
  t.is((await run(["-logfile=/tmp/a=b", ...ADDRS])).logfile, "/tmp/a=b");
});

test("an empty path means not set", async (t) => {
  const o = await run(["-logfile=", "-cpuprofile", "", ...ADDRS]);
  t.is(o.logfile, undefined);
  t.is(o.cpuprofile, undefined);
});

test("the last occurrence of a flag wins", async (t) => {
  const o = await run(["-timeout=0", "-timeout=3s", "-debug", "-debug=false", ...ADDRS]);
  t.is(o.connectTimeoutMs, 3_000);
  t.false(o.debug);
});

test("boolean flags bare and with every strconv.ParseBool spelling", async (t) => {
  for (const name of ["debug", "quiet", "syslog"] as const) {
    t.true((await run([`-${name}`, ...ADDRS]))[name], name);
    t.true((await run([`--${name}`, ...ADDRS]))[name], `--${name}`);
    t.false((await run(ADDRS))[name], `${name} default`);
    for (const v of ["1", "t", "T", "TRUE", "true", "True"]) {
      t.true((await run([`-${name}=${v}`, ...ADDRS]))[name], `${name}=${v}`);
    }
    for (const v of ["0", "f", "F", "FALSE", "false", "False"]) {
      t.false((await run([`--${name}=${v}`, ...ADDRS]))[name], `${name}=${v}`);
    }
  }
});

test("a boolean never consumes the next argument", async (t) => {
  const o = await run(["-debug", ":80", "db1:80"]);
  t.true(o.debug);
  t.deepEqual(o.listen, { host: "", port: 80 });
  // "false" ends the flags and becomes the listen address.
  t.regex(await errorOf(["-debug", "false", ":80", "db1:80"]), /invalid listen address "false"/);
});

test("flags stop at the first positional argument", async (t) => {
  const message = await errorOf([":80", "db1:80", "-debug"]);
  t.regex(message, /invalid backend address "-debug": missing port/);
  t.regex(message, /flags must come before the addresses/);
});

test("'--' ends the flags and is consumed", async (t) => {
  t.deepEqual(
    (await run(["-debug", "--", ...ADDRS])).backends.map((b) => b.label),
    ["db1:3306", "db2:3306"],
  );
  t.regex(await errorOf(["--", "-debug", ...ADDRS]), /invalid listen address "-debug"/);
  t.regex(await errorOf(["--", "--", ...ADDRS]), /invalid listen address "--"/);
});

test("a lone '-' is positional", async (t) => {
  t.regex(await errorOf(["-", "db1:80"]), /invalid listen address "-": missing port/);
  t.regex(await errorOf([":80", "-"]), /invalid backend address "-": missing port/);
});

test("help in every spelling, anywhere among the flags", async (t) => {
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
    t.deepEqual(await parseCommandLine(argv), E.right({ kind: "help" }), argv.join(" "));
  }
});

test("help after an earlier error reports the error, as Go does", async (t) => {
  t.regex(await errorOf(["-nonsense", "-h"]), /-nonsense/);
  t.regex(await errorOf(["-timeout=5x", "-h"]), /"5x"/);
});

test("help after the addresses is not a flag", async (t) => {
  t.is(await kindOf([":80", "db1:80", "-h"]), "error");
});

test("version", async (t) => {
  for (const argv of [
    ["-version"],
    ["--version"],
    ["-version=true"],
    ["-debug", "--version"],
    ["--version", ...ADDRS],
    // The version needs no addresses, and invalid ones do not matter.
    ["-version", "garbage"],
  ]) {
    t.deepEqual(await parseCommandLine(argv), E.right({ kind: "version" }), argv.join(" "));
  }
  t.is(await kindOf(["-version=false", ...ADDRS]), "run");
  t.is(await kindOf(["-version=false"]), "error");
});

test("unknown flags", async (t) => {
  t.is(await errorOf(["-foo", ...ADDRS]), "flag provided but not defined: -foo");
  t.is(await errorOf(["--foo=1", ...ADDRS]), "flag provided but not defined: -foo");
  t.is(await errorOf(["-Debug", ...ADDRS]), "flag provided but not defined: -Debug");
  t.is(await errorOf(["-5", ...ADDRS]), "flag provided but not defined: -5");
});

test("bad flag syntax", async (t) => {
  t.is(await errorOf(["---debug", ...ADDRS]), "bad flag syntax: ---debug");
  t.is(await errorOf(["-=1", ...ADDRS]), "bad flag syntax: -=1");
  t.is(await errorOf(["--=1", ...ADDRS]), "bad flag syntax: --=1");
});

test("missing flag values", async (t) => {
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
    t.is(await errorOf([`-${name}`]), `flag needs an argument: -${name}`);
    t.is(await errorOf(["-debug", `--${name}`]), `flag needs an argument: -${name}`);
  }
});

test("malformed durations name the flag and the value", async (t) => {
  t.is(
    await errorOf(["-timeout", "5x", ...ADDRS]),
    'invalid value "5x" for flag -timeout: unknown unit "x" in duration "5x"',
  );
  t.is(
    await errorOf(["-probe-delay=30", ...ADDRS]),
    'invalid value "30" for flag -probe-delay: missing unit in duration "30"',
  );
  t.is(
    await errorOf(["--stats=", ...ADDRS]),
    'invalid value "" for flag -stats: invalid duration ""',
  );
  t.is(
    await errorOf(["--drain-timeout", "soon", ...ADDRS]),
    'invalid value "soon" for flag -drain-timeout: invalid duration "soon"',
  );
});

test("durations out of range", async (t) => {
  const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
    [["-timeout=0"], 'invalid value "0" for flag -timeout: must be positive'],
    [["-timeout", "-1s"], 'invalid value "-1s" for flag -timeout: must be positive'],
    [["-probe-delay=0s"], 'invalid value "0s" for flag -probe-delay: must be positive'],
    [["-probe-delay=-5m"], 'invalid value "-5m" for flag -probe-delay: must be positive'],
    [["-stats", "-1s"], 'invalid value "-1s" for flag -stats: must not be negative'],
    [["-drain-timeout=-1ns"], 'invalid value "-1ns" for flag -drain-timeout: must not be negative'],
  ];
  for (const [flags, message] of cases) {
    t.is(await errorOf([...flags, ...ADDRS]), message, flags.join(" "));
  }
});

test("-maxthreads must be an integer >= 1", async (t) => {
  t.is((await run(["-maxthreads", "1", ...ADDRS])).maxthreads, 1);
  t.is((await run(["-maxthreads=+4", ...ADDRS])).maxthreads, 4);
  t.is(
    await errorOf(["-maxthreads=abc", ...ADDRS]),
    'invalid value "abc" for flag -maxthreads: not an integer',
  );
  t.is(
    await errorOf(["-maxthreads=1.5", ...ADDRS]),
    'invalid value "1.5" for flag -maxthreads: not an integer',
  );
  t.is(
    await errorOf(["-maxthreads=", ...ADDRS]),
    'invalid value "" for flag -maxthreads: not an integer',
  );
  t.is(
    await errorOf(["-maxthreads=99999999999999999999", ...ADDRS]),
    'invalid value "99999999999999999999" for flag -maxthreads: value out of range',
  );
  t.is(
    await errorOf(["-maxthreads=0", ...ADDRS]),
    'invalid value "0" for flag -maxthreads: must be an integer >= 1',
  );
  t.is(
    await errorOf(["-maxthreads", "-2", ...ADDRS]),
    'invalid value "-2" for flag -maxthreads: must be an integer >= 1',
  );
});

test("-syslog-socket must not be empty", async (t) => {
  t.is(
    await errorOf(["-syslog-socket=", ...ADDRS]),
    'invalid value "" for flag -syslog-socket: must not be empty',
  );
});

test("bad boolean values", async (t) => {
  t.is(
    await errorOf(["-debug=yes", ...ADDRS]),
    'invalid boolean value "yes" for -debug: must be true or false',
  );
  t.is(
    await errorOf(["--quiet=", ...ADDRS]),
    'invalid boolean value "" for -quiet: must be true or false',
  );
  t.is(
    await errorOf(["-syslog=tRuE", ...ADDRS]),
    'invalid boolean value "tRuE" for -syslog: must be true or false',
  );
  t.regex(await errorOf(["-version=2"]), /invalid boolean value "2" for -version/);
});

test("flag errors are reported in argument order", async (t) => {
  t.regex(await errorOf(["-foo", "-timeout=5x", ...ADDRS]), /-foo/);
  t.regex(await errorOf(["-timeout=5x", "-foo", ...ADDRS]), /"5x"/);
  // Syntax errors come before range checks, as in Go where validation follows flag.Parse.
  t.regex(await errorOf(["-timeout=0", "-foo", ...ADDRS]), /-foo/);
});

test("missing addresses", async (t) => {
  t.is(await errorOf([]), "no listen address given: need <listen-address:port> <backend:port>...");
  t.is(
    await errorOf(["-debug"]),
    "no listen address given: need <listen-address:port> <backend:port>...",
  );
  t.is(await errorOf([":80"]), "no backend given: need <listen-address:port> <backend:port>...");
  t.is(
    await errorOf(["-debug", "--", ":80"]),
    "no backend given: need <listen-address:port> <backend:port>...",
  );
});

test("bad addresses are reported by role", async (t) => {
  t.is(await errorOf(["db1", "db2:80"]), 'invalid listen address "db1": missing port');
  t.is(
    await errorOf([":80", "db1:80", "db2:0"]),
    'invalid backend address "db2:0": port must be 1-65535',
  );
  t.is(
    await errorOf(["x:70000", "db1:80"]),
    'invalid listen address "x:70000": port must be 0-65535',
  );
  t.regex(await errorOf([":80", "::1:80"]), /invalid backend address "::1:80": too many colons/);
});

test("-workers takes a count or auto; -maxthreads is kept apart for the plan", async (t) => {
  t.is((await run(["-workers=4", ...ADDRS])).workers, 4);
  t.is((await run(["--workers", "auto", ...ADDRS])).workers, "auto");
  t.is((await run(["-maxthreads=3", ...ADDRS])).workers, undefined);
  t.is((await run(["-maxthreads=3", "-workers=2", ...ADDRS])).workers, 2);
  t.is((await run([...ADDRS])).workers, undefined);
  t.is(
    await errorOf(["-workers=0", ...ADDRS]),
    'invalid value "0" for flag -workers: must be an integer >= 1 or "auto"',
  );
  t.is(
    await errorOf(["-workers=many", ...ADDRS]),
    'invalid value "many" for flag -workers: not an integer',
  );
});

test("-rise and -fall take integers >= 1 and fill the library's rise and fall", async (t) => {
  const parsed = await parseCommandLine(["-rise=3", "-fall", "2", ":3306", "db1:3306"]);
  if (E.isLeft(parsed) || parsed.right.kind !== "run") return t.fail("should parse");
  t.is(parsed.right.rise, 3);
  t.is(parsed.right.fall, 2);
  const refused = await parseCommandLine(["-rise=0", ":3306", "db1:3306"]);
  t.deepEqual(
    refused,
    E.left({ message: 'invalid value "0" for flag -rise: must be an integer >= 1' }),
  );
  const notInteger = await parseCommandLine(["-fall=two", ":3306", "db1:3306"]);
  t.deepEqual(
    notInteger,
    E.left({ message: 'invalid value "two" for flag -fall: not an integer' }),
  );
});

test("-failback takes immediate, delay:DURATION, ramp:DURATION or manual", async (t) => {
  const modeOf = async (value: string) => {
    const parsed = await parseCommandLine([`-failback=${value}`, ":3306", "db1:3306"]);
    return E.isLeft(parsed)
      ? parsed.left.message
      : parsed.right.kind === "run"
        ? parsed.right.failback
        : null;
  };
  t.deepEqual(await modeOf("immediate"), { kind: "immediate" });
  t.deepEqual(await modeOf("delay:30s"), { kind: "delay", holdMs: 30_000 });
  t.deepEqual(await modeOf("manual"), { kind: "manual" });
  t.deepEqual(await modeOf("ramp:60s"), { kind: "ramp", durationMs: 60_000 });
  t.is(
    await modeOf("slowly"),
    'invalid value "slowly" for flag -failback: expected immediate, delay:DURATION, ramp:DURATION or manual',
  );
  t.is(
    await modeOf("ramp:-1s"),
    'invalid value "ramp:-1s" for flag -failback: the ramp\'s duration must be above zero',
  );
  t.is(
    await modeOf("ramp:0"),
    'invalid value "ramp:0" for flag -failback: the ramp\'s duration must be above zero',
  );
  t.is(
    await modeOf("ramp:abc"),
    'invalid value "ramp:abc" for flag -failback: invalid duration "abc"',
  );
  t.is(
    await modeOf("delay:-1s"),
    'invalid value "delay:-1s" for flag -failback: the delay must be above zero',
  );
  t.is(
    await modeOf("delay:soon"),
    'invalid value "delay:soon" for flag -failback: invalid duration "soon"',
  );
});

test("-check-interval takes a positive duration and fills checkInterval", async (t) => {
  const parsed = await parseCommandLine(["-check-interval=2s", ":3306", "db1:3306"]);
  if (E.isLeft(parsed) || parsed.right.kind !== "run") return t.fail("should parse");
  t.is(parsed.right.checkIntervalMs, 2_000);
  t.deepEqual(
    await parseCommandLine(["-check-interval=0", ":3306", "db1:3306"]),
    E.left({ message: 'invalid value "0" for flag -check-interval: must be positive' }),
  );
});
