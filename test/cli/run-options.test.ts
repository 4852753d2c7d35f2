import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { FLAGS } from "../../src/cli/flags.js";
import { parseCommandLine } from "../../src/cli/parse.js";
import { decodeProxySettings } from "../../src/domain/proxy-options.js";

const ADDRS = [":3306", "db1:3306", "db2:3306"] as const;

test("each option is filled by one flag, so a refused value names that flag", (t) => {
  const keys = FLAGS.map((f) => f.into);
  t.is(new Set(keys).size, keys.length);
});

test("without flags the settings are the library's, defaults and labels included", async (t) => {
  const parsed = await parseCommandLine(ADDRS);
  const library = decodeProxySettings({ listen: ":3306", backends: ["db1:3306", "db2:3306"] });
  if (E.isLeft(parsed) || parsed.right.kind !== "run" || E.isLeft(library)) {
    return t.fail("both should decode");
  }
  const { listen, backends, connectTimeoutMs, hedgeMs, probeDelayMs, check, checkCredentials } =
    parsed.right;
  const { statsIntervalMs, drainTimeoutMs, rise, fall, checkIntervalMs } = parsed.right;
  const { onDown, onFailback } = parsed.right;
  t.deepEqual(
    {
      listen,
      backends,
      connectTimeoutMs,
      hedgeMs,
      probeDelayMs,
      checkIntervalMs,
      statsIntervalMs,
      drainTimeoutMs,
      onDown,
      onFailback,
      rise,
      fall,
      check,
      checkCredentials,
    },
    library.right,
  );
});

// The flag for each library option, with values the library refuses and accepts.
const libraryCases = [
  ["timeout", "connectTimeout", ["0", "-1s", "0s"], ["1ns", "2h"]],
  ["probe-delay", "probeDelay", ["0", "-5m"], ["1ms"]],
  ["stats", "statsInterval", ["-1s", "-1ns"], ["0", "1h"]],
  ["drain-timeout", "drainTimeout", ["-1ms"], ["0s", "250ms"]],
  ["hedge", "hedge", ["0", "0s", "-20ms"], ["1ns", "20ms"]],
] as const;

test("a duration flag refuses exactly what the library refuses for its option", async (t) => {
  for (const [flag, key, refused, accepted] of libraryCases) {
    for (const value of [...refused, ...accepted]) {
      const cli = await parseCommandLine([`-${flag}=${value}`, ...ADDRS]);
      const library = decodeProxySettings({
        listen: ":3306",
        backends: ["db1:3306"],
        [key]: value,
      });
      t.is(E.isLeft(cli), E.isLeft(library), `-${flag}=${value}`);
    }
  }
});
