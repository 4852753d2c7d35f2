/**
 * A seconds-long smoke of the benchmark harness: it starts, measures, reports. Scenarios whose
 * tools are missing are skipped by the harness, so this passes with or without them. No timing
 * is asserted: only that what ran produced sane figures.
 */
import test from "ava";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Results } from "../../bench/lib/report.js";

const harness = fileURLToPath(new URL("../../bench/run.js", import.meta.url));

test("the harness runs every scenario it can in smoke mode and reports figures", async (t) => {
  t.timeout(120_000);
  const out = await mkdtemp(join(tmpdir(), "bench-smoke-"));
  t.teardown(() => rm(out, { recursive: true, force: true }));

  const child = spawn(process.execPath, [harness, "--smoke", "--out", out], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  t.is(code, 0, stderr);

  const files = await readdir(out);
  t.true(files.includes("latest.json"));
  t.true(files.includes("latest.md"));
  t.true(files.some((f) => /^run-.+\.json$/.test(f)));

  const results = JSON.parse(await readFile(join(out, "latest.json"), "utf8")) as Results;
  t.is(results.schema, "tcp-fallback-bench/1");
  t.true(results.machine.cores > 0);
  t.is(typeof results.machine.cpuModel, "string");
  t.regex(results.machine.node, /^v\d+/);
  t.deepEqual(results.options.peers, ["direct", "naive", "tcp-fallback"]);
  t.is(results.options.rounds, 1);
  t.deepEqual(
    results.scenarios.map((s) => s.name),
    ["bulk1", "bulk8", "rps", "churn", "idle", "failover", "blackhole", "blackhole-hedged"],
  );

  // idle and failover need nothing but Node: they always run.
  const ran = results.scenarios.filter((s) => s.skipped === null).map((s) => s.name);
  t.true(ran.includes("idle"));
  t.true(ran.includes("failover"));
  // python3 (the black-holed primary) is on every machine the tests run on.
  t.true(ran.includes("blackhole") && ran.includes("blackhole-hedged"));

  for (const m of results.measurements) t.is(m.error, undefined, `${m.scenario} ${m.peer}`);
  const row = (scenario: string, metric: string, peer: string) =>
    results.rows.find((r) => r.scenario === scenario && r.metric === metric && r.peer === peer);

  for (const scenario of ran) {
    const info = results.scenarios.find((s) => s.name === scenario);
    const headline = info?.metrics[0]?.key ?? "";
    for (const peer of ["direct", "naive", "tcp-fallback"]) {
      if (info?.notApplicable[peer] !== undefined) continue;
      const found = row(scenario, headline, peer);
      t.truthy(found, `${scenario} ${headline} ${peer}`);
      if (scenario !== "idle") t.true((found?.median ?? 0) > 0, `${scenario} ${peer} > 0`);
      else t.true(Number.isFinite(found?.median), `${scenario} ${peer} finite`);
      // A proxy's own CPU is measured; there is none for direct.
      if (peer === "direct") t.is(found?.cpuSeconds, null);
      else if (scenario !== "idle") t.true((found?.cpuSeconds ?? 0) > 0, `${scenario} ${peer} cpu`);
    }
    // Where direct takes part (not idle, failover, blackhole: no proxy or no fallback).
    if (scenario !== "idle" && info?.notApplicable["direct"] === undefined)
      t.is(row(scenario, headline, "direct")?.vsDirect, 1);
  }

  // Every idle connection was opened through the proxy and confirmed by an echo.
  for (const m of results.measurements.filter((m) => m.scenario === "idle")) {
    t.is(m.details?.["held"], 100);
    t.is(m.details?.["failed"], 0);
  }
  // tcp-fallback moved to the fallback and back; naive and direct have no fallback.
  t.deepEqual(
    Object.keys(results.scenarios.find((s) => s.name === "failover")?.notApplicable ?? {}),
    ["direct", "naive"],
  );
  t.true((row("failover", "failbackMs", "tcp-fallback")?.median ?? 0) > 0);

  const md = await readFile(join(out, "latest.md"), "utf8");
  t.regex(md, /\| scenario +\| figure +\| peer +\|/);
  t.regex(md, /\| failover +\| failover ms +\| tcp-fallback \|/);
  t.regex(stdout, /tcp-fallback/);
});

test("on a machine without the external tools, the harness skips what needs them", async (t) => {
  t.timeout(120_000);
  const out = await mkdtemp(join(tmpdir(), "bench-bare-"));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  const child = spawn(process.execPath, [harness, "--smoke", "--out", out], {
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env,
      TCP_FALLBACK_BENCH_WITHOUT: "haproxy,socat,iperf3,wrk,nginx,taskset,prlimit",
    },
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  t.is(code, 0, stderr);

  const results = JSON.parse(await readFile(join(out, "latest.json"), "utf8")) as Results;
  t.false(results.pinned);
  t.is(results.nofile, null);
  const skipped = Object.fromEntries(results.scenarios.map((s) => [s.name, s.skipped]));
  for (const name of ["bulk1", "bulk8"]) t.regex(skipped[name] ?? "", /iperf3/);
  for (const name of ["rps", "churn"]) t.regex(skipped[name] ?? "", /wrk, nginx/);
  t.is(skipped["idle"], null);
  t.is(skipped["failover"], null);
  t.true(results.rows.some((r) => r.scenario === "idle" && r.peer === "tcp-fallback"));
  t.true(results.notes.some((n) => /Scenario bulk1 skipped/.test(n)));
});
