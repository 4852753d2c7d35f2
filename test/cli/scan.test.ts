import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { type ScannedFlag, scanFlags } from "../../src/cli/scan.js";

type Key = "count" | "verbose";

const count: ScannedFlag<Key> = {
  name: "n",
  into: "count",
  read: (text) => (/^\d+$/.test(text) ? E.right(Number(text)) : E.left("not a count")),
};
const verbose: ScannedFlag<Key> = { name: "v", into: "verbose" };
const flags = [count, verbose];

test("a flag fills its key with what its read gives; the text is kept for messages", (t) => {
  t.deepEqual(
    scanFlags(flags, ["-n", "3", "--v", "rest", "-n=4"]),
    E.right({
      options: { count: 3, verbose: true },
      texts: new Map([["n", "3"]]),
      positional: ["rest", "-n=4"],
    }),
  );
});

test("a later flag overrides an earlier one, text included", (t) => {
  const scanned = scanFlags(flags, ["-n=1", "-v", "-n=2", "-v=false"]);
  t.deepEqual(
    scanned,
    E.right({
      options: { count: 2, verbose: false },
      texts: new Map([["n", "2"]]),
      positional: [],
    }),
  );
});

test("only given flags are in the options", (t) => {
  t.deepEqual(
    scanFlags(flags, ["a", "b"]),
    E.right({ options: {}, texts: new Map(), positional: ["a", "b"] }),
  );
});

test("a read failure names the flag and the text; the first failure wins", (t) => {
  t.deepEqual(
    scanFlags(flags, ["-n=x", "-zz"]),
    E.left('invalid value "x" for flag -n: not a count'),
  );
  t.deepEqual(scanFlags(flags, ["-zz", "-n=x"]), E.left("flag provided but not defined: -zz"));
});

test("help stops the scan unless an earlier flag failed", (t) => {
  t.deepEqual(scanFlags(flags, ["-v", "-help", "-n=x"]), E.right("help"));
  t.deepEqual(
    scanFlags(flags, ["-n=x", "-h"]),
    E.left('invalid value "x" for flag -n: not a count'),
  );
});

test("a flag named h or help in the table is the table's, not help", (t) => {
  const h: ScannedFlag<Key> = { name: "h", into: "verbose" };
  t.deepEqual(
    scanFlags([h], ["-h"]),
    E.right({ options: { verbose: true }, texts: new Map(), positional: [] }),
  );
});
