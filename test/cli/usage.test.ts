import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { parseCommandLine } from "../../src/cli/parse.js";
import { usage } from "../../src/cli/usage.js";

const kindOf = async (argv: ReadonlyArray<string>): Promise<string> => {
  const parsed = await parseCommandLine(argv);
  return E.isLeft(parsed) ? "error" : parsed.right.kind;
};

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
  t.regex(usage, /-log-format format .*text, or json.*\(default text\)/);
  t.regex(usage, /Example:\n +tcp-fallback .+:\d+ .+:\d+/);
});

test("the usage example parses", async (t) => {
  const line = /Example:\n +tcp-fallback (.+)/.exec(usage)?.[1];
  t.truthy(line);
  t.is(await kindOf((line ?? "").split(" ")), "run");
});
