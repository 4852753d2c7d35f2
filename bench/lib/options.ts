/** The harness's command line. */
import { resolve } from "node:path";

export const SCENARIOS = [
  "bulk1",
  "bulk8",
  "rps",
  "churn",
  "idle",
  "failover",
  "blackhole",
  "blackhole-hedged",
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const PEERS = ["direct", "haproxy", "socat", "naive", "tcp-fallback"] as const;
/** "baseline" is not chosen with --peers: --baseline DIR adds it. */
export type PeerName = (typeof PEERS)[number] | "baseline";

export interface Options {
  readonly rounds: number;
  readonly seconds: number;
  readonly scenarios: ReadonlyArray<ScenarioName>;
  readonly peers: ReadonlyArray<PeerName>;
  /** Extra arguments for tcp-fallback (and the baseline), put before its addresses. */
  readonly tfArgs: ReadonlyArray<string>;
  /** Arguments for the baseline instead of --tf-args, when given. */
  readonly baselineArgs: ReadonlyArray<string> | undefined;
  /** Absolute path of another built checkout of tcp-fallback, measured as peer "baseline". */
  readonly baseline: string | undefined;
  readonly smoke: boolean;
  readonly unpinned: boolean;
  readonly idleConnections: number;
  /** Results directory; bench/results by default. */
  readonly out: string | undefined;
  readonly help: boolean;
}

export const USAGE = `Usage: node dist/bench/run.js [options]

  --rounds N             rounds per scenario (default 3; smoke 1)
  --seconds S            seconds per measurement (default 3; smoke 0.5)
  --scenarios a,b        of ${SCENARIOS.join(",")} (default all)
  --peers a,b            of ${PEERS.join(",")} (default all; smoke direct,naive,tcp-fallback)
  --tf-args "..."        extra arguments for tcp-fallback, e.g. --tf-args="--workers=2"
  --baseline DIR         also measure another built checkout of tcp-fallback (DIR/dist/src/cli.js)
                         as peer "baseline", with the same --tf-args, e.g. the previous release
  --baseline-args "..."  the baseline's extra arguments instead of --tf-args; with --baseline set to
                         this checkout, measures one build with two flag sets (e.g. -admin on, off)
  --smoke                a seconds-long check that the harness runs end to end
  --unpinned             no taskset (for multi-process measurements)
  --idle-connections N   connections held in the idle scenario (default 5000; smoke 100)
  --out DIR              where the results go (default bench/results)
`;

const list = <T extends string>(value: string, allowed: ReadonlyArray<T>, flag: string): T[] => {
  const items = value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  for (const item of items)
    if (!(allowed as ReadonlyArray<string>).includes(item))
      throw new Error(`${flag}: unknown "${item}" (one of ${allowed.join(", ")})`);
  if (items.length === 0) throw new Error(`${flag}: empty list`);
  return items as T[];
};

const positive = (value: string, flag: string, integer: boolean): number => {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0 || (integer && !Number.isInteger(number)))
    throw new Error(
      `${flag}: expected a positive ${integer ? "integer" : "number"}, got "${value}"`,
    );
  return number;
};

const words = (text: string): string[] => text.split(/\s+/).filter((arg) => arg !== "");

/** Parses `--flag value` and `--flag=value`; throws an Error naming the bad flag. */
export const parseOptions = (argv: ReadonlyArray<string>): Options => {
  const given = new Map<string, string>();
  const booleans = new Set(["--smoke", "--unpinned", "--help", "-h"]);
  const valued = new Set([
    "--rounds",
    "--seconds",
    "--scenarios",
    "--peers",
    "--tf-args",
    "--baseline",
    "--baseline-args",
    "--idle-connections",
    "--out",
  ]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (booleans.has(name) && eq < 0) given.set(name, "true");
    else if (valued.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new Error(`${name}: missing value`);
      given.set(name, value);
    } else throw new Error(`unknown option "${arg}"`);
  }
  const smoke = given.has("--smoke");
  const get = (flag: string): string | undefined => given.get(flag);
  const rounds = get("--rounds");
  const seconds = get("--seconds");
  const scenarios = get("--scenarios");
  const peers = get("--peers");
  const idle = get("--idle-connections");
  const baseline = get("--baseline");
  const baselineArgs = get("--baseline-args");
  if (baselineArgs !== undefined && baseline === undefined)
    throw new Error("--baseline-args: needs --baseline DIR");
  if (baseline === "") throw new Error("--baseline: empty path");
  const chosen: PeerName[] =
    peers === undefined
      ? smoke
        ? ["direct", "naive", "tcp-fallback"]
        : [...PEERS]
      : list(peers, PEERS, "--peers");
  return {
    rounds: rounds === undefined ? (smoke ? 1 : 3) : positive(rounds, "--rounds", true),
    seconds: seconds === undefined ? (smoke ? 0.5 : 3) : positive(seconds, "--seconds", false),
    scenarios: scenarios === undefined ? [...SCENARIOS] : list(scenarios, SCENARIOS, "--scenarios"),
    peers: baseline === undefined ? chosen : [...chosen, "baseline"],
    tfArgs: words(get("--tf-args") ?? ""),
    baselineArgs: baselineArgs === undefined ? undefined : words(baselineArgs),
    baseline: baseline === undefined ? undefined : resolve(baseline),
    smoke,
    unpinned: given.has("--unpinned"),
    idleConnections:
      idle === undefined ? (smoke ? 100 : 5000) : positive(idle, "--idle-connections", true),
    out: get("--out"),
    help: given.has("--help") || given.has("-h"),
  };
};
