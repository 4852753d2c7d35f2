/**
 * --baseline DIR: another built checkout of tcp-fallback runs as peer "baseline" in the same run,
 * and tcp-fallback's rows get a "× baseline" ratio.
 */
import test from "ava";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseOptions } from "../../bench/lib/options.js";
import {
  type Measurement,
  type Results,
  type ScenarioInfo,
  markdown,
  summarize,
  textTable,
} from "../../bench/lib/report.js";

const harness = fileURLToPath(new URL("../../bench/run.js", import.meta.url));
// This checkout (dist/src/cli.js is built): the smoke compares it with itself.
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const runHarness = async (args: ReadonlyArray<string>): Promise<Ran> => {
  const child = spawn(process.execPath, [harness, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 100_000,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
};

test("options: --baseline adds the peer baseline after the chosen ones, with an absolute path", (t) => {
  const plain = parseOptions(["--smoke"]);
  t.is(plain.baseline, undefined);
  t.deepEqual(plain.peers, ["direct", "naive", "tcp-fallback"]);
  const given = parseOptions(["--peers", "direct,tcp-fallback", "--baseline", "../base"]);
  t.is(given.baseline, resolve("../base"));
  t.deepEqual(given.peers, ["direct", "tcp-fallback", "baseline"]);
  t.is(parseOptions(["--baseline=/x/y"]).baseline, "/x/y");
  t.throws(() => parseOptions(["--baseline="]), { message: /--baseline: empty path/ });
  t.throws(() => parseOptions(["--baseline"]), { message: /--baseline: missing value/ });
  // One build, two flag sets: the baseline's own arguments replace --tf-args for it alone.
  const flags = parseOptions(["--tf-args=-admin=127.0.0.1:0", "--baseline=.", "--baseline-args="]);
  t.deepEqual(flags.tfArgs, ["-admin=127.0.0.1:0"]);
  t.deepEqual(flags.baselineArgs, []);
  t.is(parseOptions(["--baseline=."]).baselineArgs, undefined);
  t.throws(() => parseOptions(["--baseline-args=-quiet"]), {
    message: /--baseline-args: needs --baseline DIR/,
  });
  // It comes with --baseline only, not from --peers.
  t.throws(() => parseOptions(["--peers", "baseline"]), { message: /--peers: unknown "baseline"/ });
});

const rps: ScenarioInfo = {
  name: "rps",
  title: "",
  metrics: [
    { key: "rate", label: "req/s", better: "higher", perCore: true },
    { key: "p99", label: "p99 ms", better: "lower", perCore: false },
  ],
  skipped: null,
  notApplicable: {},
};

const measured = (peer: Measurement["peer"], rate: number, p99: number): Measurement => ({
  scenario: "rps",
  peer,
  round: 0,
  figures: { rate, p99 },
  cpuSeconds: 1,
  wallSeconds: 2,
});

test("summary: tcp-fallback's median over the baseline's, in a column only runs with a baseline have", (t) => {
  const rows = summarize(
    [rps],
    ["direct", "tcp-fallback", "baseline"],
    [
      measured("direct", 400, 1),
      measured("tcp-fallback", 190, 2.1),
      measured("tcp-fallback", 200, 2.2),
      measured("tcp-fallback", 210, 2.3),
      measured("baseline", 250, 2),
    ],
  );
  const row = (metric: string, peer: string) =>
    rows.find((r) => r.metric === metric && r.peer === peer);
  t.is(row("rate", "tcp-fallback")?.vsBaseline, 200 / 250);
  t.is(row("p99", "tcp-fallback")?.vsBaseline, 2.2 / 2);
  t.is(row("rate", "baseline")?.vsBaseline, null);
  t.is(row("rate", "direct")?.vsBaseline, null);

  const table = textTable(rows).split("\n");
  t.regex(table[0] ?? "", /× haproxy +× baseline +CPU s/);
  const rateLine = table.find((line) => /^rps +req\/s +tcp-fallback /.test(line)) ?? "";
  t.regex(rateLine, / 0\.80 /);
  const results: Results = {
    schema: "tcp-fallback-bench/1",
    machine: { cpuModel: "cpu", cores: 2, node: "v20", kernel: "6", date: "2026-01-01", tools: {} },
    options: {
      rounds: 1,
      seconds: 1,
      scenarios: ["rps"],
      peers: ["direct", "tcp-fallback", "baseline"],
      tfArgs: [],
      baselineArgs: undefined,
      baseline: "/base",
      smoke: false,
      unpinned: false,
      idleConnections: 1,
    },
    pinned: false,
    nofile: null,
    peers: [],
    scenarios: [rps],
    rows,
    measurements: [],
    notes: [],
    durationSeconds: 1,
  };
  const md = markdown(results);
  t.regex(md, /; baseline: tcp-fallback from \/base\./);
  t.regex(md, /\| × haproxy \| × baseline \| CPU s \|/);
  t.regex(md, /\| rps \| req\/s \| tcp-fallback \| 200 \| 190–210 \| 0\.50 \| – \| 0\.80 \|/);

  const without = summarize(
    [rps],
    ["direct", "tcp-fallback"],
    [measured("direct", 400, 1), measured("tcp-fallback", 200, 2)],
  );
  t.is(without.find((r) => r.peer === "tcp-fallback")?.vsBaseline, null);
  t.notRegex(textTable(without), /baseline/);
});

test("a smoke run with --baseline measures the other build beside this one, alternating", async (t) => {
  t.timeout(120_000);
  const out = await mkdtemp(join(tmpdir(), "bench-baseline-"));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  const ran = await runHarness([
    "--smoke",
    "--rounds=2",
    "--scenarios=idle,failover",
    "--peers=tcp-fallback",
    `--baseline=${repoRoot}`,
    "--out",
    out,
  ]);
  t.is(ran.code, 0, ran.stderr);

  const results = JSON.parse(await readFile(join(out, "latest.json"), "utf8")) as Results;
  t.deepEqual(results.options.peers, ["tcp-fallback", "baseline"]);
  t.is(results.options.baseline, resolve(repoRoot));
  for (const m of results.measurements) t.is(m.error, undefined, `${m.scenario} ${m.peer}`);
  // Both builds measured in every round of both scenarios, taking turns at going first.
  for (const scenario of ["idle", "failover"])
    t.deepEqual(
      results.measurements
        .filter((m) => m.scenario === scenario)
        .map((m) => `${m.round}:${m.peer}`),
      ["0:tcp-fallback", "0:baseline", "1:baseline", "1:tcp-fallback"],
      scenario,
    );
  const failover = results.rows.find(
    (r) => r.scenario === "failover" && r.metric === "failbackMs" && r.peer === "tcp-fallback",
  );
  t.true((failover?.vsBaseline ?? 0) > 0);
  t.true(results.notes.some((n) => n.startsWith("× baseline:") && n.includes(resolve(repoRoot))));
  t.regex(await readFile(join(out, "latest.md"), "utf8"), /\| × baseline \|/);
  t.regex(ran.stdout, /× baseline/);
});

test("--baseline naming a directory without a build: exit 2, saying what to do", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "bench-no-build-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ran = await runHarness(["--smoke", `--baseline=${dir}`]);
  t.is(ran.code, 2);
  t.is(
    ran.stderr,
    `bench: --baseline: no ${join(dir, "dist/src/cli.js")} (run npm run build in ${dir})\n`,
  );
});
