/**
 * The benchmark suite: every scenario through tcp-fallback and its peers, side by side in one run.
 *
 *   npm run bench [-- --rounds 3 --seconds 3 --scenarios a,b --peers a,b --tf-args "..." ...]
 *
 * Loopback only; every load is bounded in count and time; every child is killed on exit.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";
import { type Context, LOAD_CPU } from "./lib/context.js";
import { describeMachine } from "./lib/machine.js";
import { type Options, type PeerName, USAGE, parseOptions } from "./lib/options.js";
import { canRaiseNofile, killAll, openFileLimits, pinSelf, which } from "./lib/proc.js";
import {
  type Measurement,
  type Results,
  type ScenarioInfo,
  markdown,
  summarize,
  textTable,
} from "./lib/report.js";
import { PEER_DEFS, type PeerDef, baselineCli } from "./peers/peers.js";
import { HEDGE, blackholeHedged, blackholePlain } from "./scenarios/blackhole.js";
import { bulk1, bulk8 } from "./scenarios/bulk.js";
import { failover } from "./scenarios/failover.js";
import { churn, rps } from "./scenarios/http.js";
import { idle } from "./scenarios/idle.js";
import type { Scenario } from "./scenarios/scenario.js";

const SCENARIO_IMPLS: ReadonlyArray<Scenario> = [
  bulk1,
  bulk8,
  rps,
  churn,
  idle,
  failover,
  blackholePlain,
  blackholeHedged,
];
const TOOLS = ["haproxy", "socat", "iperf3", "wrk", "nginx", "taskset", "prlimit", "python3"];
const WANTED_NOFILE = 65536;
const REEXEC = "TCP_FALLBACK_BENCH_REEXEC";
const WITHOUT = "TCP_FALLBACK_BENCH_WITHOUT";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const log = (message: string): void => void process.stderr.write(`${message}\n`);

/** Kills every child and removes the temporary directory, however the harness ends. */
const installCleanup = (tmp: string): void => {
  const cleanup = (): void => {
    killAll();
    rmSync(tmp, { recursive: true, force: true });
  };
  process.on("exit", cleanup);
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const)
    process.on(signal, () => {
      log(`bench: ${signal}, stopping`);
      process.exit(code);
    });
};

/**
 * The idle scenario holds two descriptors per connection in this process (client and echo
 * backend). If our limit is too low and can be raised, run again under prlimit (same session).
 */
const ensureFdLimit = (options: Options): "ok" | "reexec" | number => {
  const needed = options.scenarios.includes("idle") ? options.idleConnections * 2 + 1024 : 1024;
  const { soft } = openFileLimits();
  if (soft >= needed) return "ok";
  if (process.env[REEXEC] === undefined && canRaiseNofile(needed)) return "reexec";
  return Math.max(1, Math.floor((soft - 1024) / 2));
};

const reexec = (options: Options): void => {
  const limit = Math.max(WANTED_NOFILE, options.idleConnections * 2 + 1024);
  const child = spawn(
    "prlimit",
    [`--nofile=${limit}:${limit}`, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: "inherit", env: { ...process.env, [REEXEC]: "1" } },
  );
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
};

const rotate = <T>(items: ReadonlyArray<T>, by: number): T[] =>
  items.map((_, i) => items[(i + by) % items.length] as T);

/**
 * The order of the peers in a round: rotated, so no peer always goes first; and tcp-fallback goes
 * before its baseline in even rounds, after it in odd ones.
 */
const roundOrder = (peers: ReadonlyArray<PeerDef>, round: number): PeerDef[] => {
  const order = rotate(peers, round);
  const own = order.findIndex((p) => p.name === "tcp-fallback");
  const base = order.findIndex((p) => p.name === "baseline");
  if (own >= 0 && base >= 0 && own < base !== (round % 2 === 0))
    [order[own], order[base]] = [order[base] as PeerDef, order[own] as PeerDef];
  return order;
};

/** Which build the baseline is, for the notes: its git commit, when it is a git checkout. */
const describeBaseline = (dir: string): string => {
  const git = spawnSync("git", ["-C", dir, "describe", "--always", "--dirty"], {
    encoding: "utf8",
  });
  const commit = git.status === 0 ? git.stdout.trim() : "";
  return commit === "" ? dir : `${dir} (commit ${commit})`;
};

const main = async (options: Options): Promise<void> => {
  const startedAt = Date.now();
  const notes: string[] = [];
  const tmp = mkdtempSync(join(tmpdir(), "tcp-fallback-bench-"));
  installCleanup(tmp);

  // TCP_FALLBACK_BENCH_WITHOUT=a,b pretends tools are missing (the smoke test's bare machine).
  const hidden = (process.env[WITHOUT] ?? "").split(",");
  const tools = new Map<string, string>();
  for (const name of TOOLS.filter((t) => !hidden.includes(t))) {
    const path = which(name);
    if (path !== undefined) tools.set(name, path);
  }
  const machine = describeMachine(tools);

  let idleConnections = options.idleConnections;
  const fd = ensureFdLimit(options);
  if (typeof fd === "number") {
    notes.push(`idle: the open-file limit allows ${fd} connections, not ${idleConnections}.`);
    idleConnections = fd;
  }
  const effective: Options = { ...options, idleConnections };

  let pinned = !options.unpinned;
  if (pinned && (!tools.has("taskset") || machine.cores < 2 || !pinSelf(LOAD_CPU))) {
    pinned = false;
    notes.push("No CPU pinning: taskset is missing, fails, or there are fewer than 2 CPUs.");
  }
  // Servers get as many descriptors as allowed: 65536 with CAP_SYS_RESOURCE, else our hard limit.
  const nofile = !tools.has("prlimit")
    ? null
    : canRaiseNofile(WANTED_NOFILE)
      ? WANTED_NOFILE
      : openFileLimits().hard;
  if (nofile === null)
    notes.push("prlimit is missing: servers inherit the harness's open-file limit.");

  const ctx: Context = { options: effective, pinned, nofile, tmp, tools, log };

  const peerStatus = options.peers.map((name) => {
    const def = PEER_DEFS.find((p) => p.name === name) as PeerDef;
    const skipped =
      def.tool !== null && !tools.has(def.tool) ? `${def.tool} is not installed` : null;
    if (skipped !== null) notes.push(`Peer ${name} skipped: ${skipped}.`);
    return { name, def, skipped };
  });
  const peers = peerStatus.filter((p) => p.skipped === null).map((p) => p.def);

  const measurements: Measurement[] = [];
  const infos: ScenarioInfo[] = [];
  for (const scenario of SCENARIO_IMPLS.filter((s) => options.scenarios.includes(s.name))) {
    const missing = scenario.tools.filter((t) => !tools.has(t));
    const notApplicable: Record<string, string> = {};
    for (const peer of peers) {
      const reason = scenario.applies(peer);
      if (reason !== null) notApplicable[peer.name] = reason;
    }
    const info = (skipped: string | null): ScenarioInfo => ({
      name: scenario.name,
      title: scenario.title,
      metrics: scenario.metrics,
      skipped,
      notApplicable,
    });
    if (missing.length > 0) {
      const why = `${missing.join(", ")} not installed`;
      notes.push(`Scenario ${scenario.name} skipped: ${why}.`);
      infos.push(info(why));
      continue;
    }
    const taking = peers.filter((p) => notApplicable[p.name] === undefined);
    log(`bench: ${scenario.name} (${scenario.title}): ${taking.map((p) => p.name).join(", ")}`);
    let prepared;
    try {
      prepared = await scenario.prepare(ctx);
    } catch (error) {
      const why = `set-up failed: ${(error as Error).message.split("\n")[0]}`;
      notes.push(`Scenario ${scenario.name} skipped: ${why}.`);
      infos.push(info(why));
      continue;
    }
    infos.push(info(null));
    try {
      for (let round = 0; round < options.rounds; round++) {
        // Alternate the order so no peer always goes first (warm caches, thermal state).
        for (const peer of roundOrder(taking, round)) {
          let measurement: Measurement;
          try {
            const outcome = await prepared.measure(peer, round);
            measurement = { scenario: scenario.name, peer: peer.name, round, ...outcome };
          } catch (error) {
            const message = (error as Error).message;
            measurement = {
              scenario: scenario.name,
              peer: peer.name,
              round,
              figures: {},
              cpuSeconds: null,
              wallSeconds: 0,
              error: message,
            };
            log(`  ${peer.name}: error: ${message}`);
          }
          measurements.push(measurement);
          if (measurement.error === undefined)
            log(
              `  round ${round + 1} ${peer.name}: ` +
                Object.entries(measurement.figures)
                  .map(([k, v]) => `${k}=${v === null ? "none" : Number(v.toPrecision(4))}`)
                  .join(" ") +
                (measurement.cpuSeconds === null
                  ? ""
                  : ` cpu=${measurement.cpuSeconds.toFixed(2)}s/${measurement.wallSeconds.toFixed(2)}s`),
            );
        }
      }
    } finally {
      await prepared.close();
    }
  }

  const peerNames: PeerName[] = peers.map((p) => p.name);
  const rows = summarize(infos, peerNames, measurements);
  notes.push(...standingNotes(infos, peerNames));
  if (options.baseline !== undefined)
    notes.push(
      `× baseline: tcp-fallback's median divided by the baseline's from the same run (same ` +
        `flags, higher is better for rates, lower for ms, KiB and failures); baseline: ` +
        `${describeBaseline(options.baseline)}` +
        (options.baselineArgs === undefined
          ? "."
          : ` with flags "${options.baselineArgs.join(" ")}" (tcp-fallback: "${options.tfArgs.join(" ")}").`),
    );
  const results: Results = {
    schema: "tcp-fallback-bench/1",
    machine,
    options: {
      rounds: options.rounds,
      seconds: options.seconds,
      scenarios: options.scenarios,
      peers: options.peers,
      tfArgs: options.tfArgs,
      baselineArgs: options.baselineArgs,
      baseline: options.baseline,
      smoke: options.smoke,
      unpinned: options.unpinned,
      idleConnections,
    },
    pinned,
    nofile,
    peers: peerStatus.map(({ name, skipped }) => ({ name, skipped })),
    scenarios: infos,
    rows,
    measurements,
    notes,
    durationSeconds: (Date.now() - startedAt) / 1000,
  };
  await writeResults(results, options.out ?? join(repoRoot, "bench", "results"));
  console.log(textTable(rows));
  for (const note of notes) console.log(`- ${note}`);
};

/** What a reader of the table needs to know, whatever the run. */
const standingNotes = (
  infos: ReadonlyArray<ScenarioInfo>,
  peers: ReadonlyArray<string>,
): string[] => {
  const ran = new Set(infos.filter((i) => i.skipped === null).map((i) => i.name));
  const notes = [
    "× direct, × haproxy: this peer's median divided by theirs, from the same run (higher is " +
      "better for rates, lower for ms, KiB and failures). CPU s: CPU the proxy's processes used " +
      "per measurement (utime+stime, children included). Per core: the rate divided by the cores " +
      "the proxy kept busy (CPU s / wall s).",
  ];
  if (ran.has("bulk1") || ran.has("bulk8"))
    notes.push(
      "bulk: iperf3 --json, -P 1 or -P 8; the control connection goes through the proxy too.",
    );
  if (ran.has("rps") || ran.has("churn"))
    notes.push(
      'rps, churn: wrk -t1 -c64 --latency to nginx (1 worker, `return 200 "ok\\n"`); churn adds ' +
        '"Connection: close", so every request is a new connection through the proxy.',
    );
  if (ran.has("idle"))
    notes.push(
      "idle: RSS is the sum of VmRSS over the proxy's processes, so for forking socat it counts " +
        "shared pages once per connection; PSS splits them. Not measured for direct (no proxy).",
    );
  if (ran.has("failover"))
    notes.push(
      "failover: a new client every 2 ms (8-byte echo, 1 s budget); the primary's listener is " +
        "closed and its connections reset, then it listens again. failover/failback ms: from the " +
        "kill/restart until new clients reach the fallback/primary for good; failed clients: " +
        "clients started after the kill that got no echo within 1 s. Only peers with a fallback " +
        "(HAProxy `check inter 1s` with default fall 3 / rise 2, `timeout connect 1s`; " +
        "tcp-fallback -probe-delay=1s -timeout=1s).",
    );
  if (ran.has("blackhole") || ran.has("blackhole-hedged"))
    notes.push(
      "blackhole: the primary never answers a connect (a listener that never accepts, its queue " +
        "full); a new client every 5 ms for 1.5 s from the proxy's start, each an 8-byte echo " +
        "with a 5 s budget; p50/p99 ms: from the client's connect to the echo. Until the proxy " +
        "has judged the primary (a 1 s connect timeout: the first client's or the start-up " +
        `check's), clients wait for it; blackhole-hedged adds -hedge=${HEDGE}.`,
    );
  if (peers.includes("socat")) notes.push("socat runs with backlog=1024 (its default is 5).");
  return notes;
};

const writeResults = async (results: Results, out: string): Promise<void> => {
  mkdirSync(out, { recursive: true });
  // Formatted as prettier would, so the repository's format check accepts committed results.
  const config = (await prettier.resolveConfig(join(repoRoot, "bench", "results", "x.md"))) ?? {};
  const json = await prettier.format(JSON.stringify(results), { ...config, parser: "json" });
  const md = await prettier.format(markdown(results), { ...config, parser: "markdown" });
  const stamp = results.machine.date.replace(/[:.]/g, "-");
  writeFileSync(join(out, `run-${stamp}.json`), json);
  writeFileSync(join(out, "latest.json"), json);
  writeFileSync(join(out, "latest.md"), md);
  log(`bench: results in ${join(out, "latest.json")}, ${join(out, "latest.md")}`);
};

let options: Options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`bench: ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (options.baseline !== undefined && !existsSync(baselineCli(options.baseline))) {
  process.stderr.write(
    `bench: --baseline: no ${baselineCli(options.baseline)} (run npm run build in ${options.baseline})\n`,
  );
  process.exit(2);
}
if (ensureFdLimit(options) === "reexec") reexec(options);
else
  main(options).then(
    () => process.exit(0),
    (error: unknown) => {
      log(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
