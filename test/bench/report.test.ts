/** The harness's pure parts: its command line, the tools' reports, the figures and ratios. */
import test from "ava";
import { parseIperf } from "../../bench/scenarios/bulk.js";
import { switchTime } from "../../bench/scenarios/failover.js";
import { parseWrk } from "../../bench/scenarios/http.js";
import { parseOptions } from "../../bench/lib/options.js";
import {
  type Measurement,
  type ScenarioInfo,
  formatNumber,
  median,
  summarize,
} from "../../bench/lib/report.js";

test("options: defaults, smoke defaults, both flag spellings, and errors naming the flag", (t) => {
  const defaults = parseOptions([]);
  t.is(defaults.rounds, 3);
  t.is(defaults.seconds, 3);
  t.is(defaults.idleConnections, 5000);
  t.is(defaults.peers.length, 5);
  const smoke = parseOptions(["--smoke"]);
  t.deepEqual([smoke.rounds, smoke.seconds, smoke.idleConnections], [1, 0.5, 100]);
  t.deepEqual(smoke.peers, ["direct", "naive", "tcp-fallback"]);
  const given = parseOptions([
    "--rounds=5",
    "--seconds",
    "1.5",
    "--scenarios",
    "rps,idle",
    "--tf-args=--workers=2 -debug",
    "--unpinned",
  ]);
  t.is(given.rounds, 5);
  t.is(given.seconds, 1.5);
  t.deepEqual(given.scenarios, ["rps", "idle"]);
  t.deepEqual(given.tfArgs, ["--workers=2", "-debug"]);
  t.true(given.unpinned);
  t.throws(() => parseOptions(["--rounds", "0"]), { message: /--rounds/ });
  t.throws(() => parseOptions(["--peers", "envoy"]), { message: /--peers: unknown "envoy"/ });
  t.throws(() => parseOptions(["--frobnicate"]), { message: /unknown option/ });
  t.throws(() => parseOptions(["--out"]), { message: /--out: missing value/ });
});

test("wrk: rate, request count, latency percentiles in ms, errors", (t) => {
  const report = parseWrk(`Running 3s test @ http://127.0.0.1:1/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   331.28us  120.00us   5.00ms   90.00%
  Latency Distribution
     50%  312.00us
     75%  400.00us
     90%    1.20ms
     99%    2.50s
  600000 requests in 3.00s, 50.00MB read
  Socket errors: connect 1, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec: 200000.50
Transfer/sec:     16.67MB
`);
  t.is(report.requestsPerSecond, 200000.5);
  t.is(report.requests, 600000);
  t.is(report.latency["50"], 0.312);
  t.is(report.latency["90"], 1.2);
  t.is(report.latency["99"], 2500);
  t.is(report.socketErrors, 6);
  t.is(report.non2xx, 4);
  t.throws(() => parseWrk("unable to connect"), { message: /no report/ });
});

test("iperf3: received Gbit/s, or its error", (t) => {
  t.is(parseIperf(JSON.stringify({ end: { sum_received: { bits_per_second: 2e10 } } })), 20);
  t.throws(() => parseIperf(JSON.stringify({ error: "the server is busy" })), {
    message: /busy/,
  });
  t.throws(() => parseIperf("{}"), { message: /no received throughput/ });
});

test("failover time: the first client that got there after the last one that did not", (t) => {
  const a = (start: number, end: number, via: "primary" | "fallback" | null) => ({
    start,
    end,
    via,
    error: via === null ? "refused" : null,
  });
  const attempts = [
    a(0, 1, "primary"),
    a(10, 11, null),
    a(12, 13, "fallback"),
    a(14, 15, null),
    a(16, 18, "fallback"),
    a(20, 21, "fallback"),
  ];
  t.is(switchTime(attempts, 10, 100, "fallback"), 8);
  t.is(switchTime([a(10, 12, "fallback")], 10, 100, "fallback"), 2);
  t.is(switchTime([a(10, 12, null)], 10, 100, "fallback"), null);
});

test("summary: medians, ranges, ratios to direct and haproxy from the same run, per core", (t) => {
  const scenario: ScenarioInfo = {
    name: "rps",
    title: "",
    metrics: [
      { key: "rate", label: "req/s", better: "higher", perCore: true },
      { key: "p99", label: "p99 ms", better: "lower", perCore: false },
    ],
    skipped: null,
    notApplicable: {},
  };
  const m = (peer: Measurement["peer"], rate: number, cpu: number | null): Measurement => ({
    scenario: "rps",
    peer,
    round: 0,
    figures: { rate, p99: rate / 1000 },
    cpuSeconds: cpu,
    wallSeconds: 2,
  });
  const rows = summarize(
    [scenario],
    ["direct", "haproxy", "tcp-fallback"],
    [
      m("direct", 400, null),
      m("direct", 200, null),
      m("direct", 300, null),
      m("haproxy", 200, 1),
      m("tcp-fallback", 100, 2),
      { ...m("tcp-fallback", 0, null), error: "boom" },
    ],
  );
  const row = (metric: string, peer: string) =>
    rows.find((r) => r.metric === metric && r.peer === peer);
  t.is(row("rate", "direct")?.median, 300);
  t.deepEqual([row("rate", "direct")?.min, row("rate", "direct")?.max], [200, 400]);
  t.is(row("rate", "haproxy")?.vsDirect, 200 / 300);
  t.is(row("rate", "tcp-fallback")?.vsHaproxy, 0.5);
  t.is(row("rate", "tcp-fallback")?.errors, 1);
  t.is(row("rate", "haproxy")?.perCore, 400); // 200 req/s on half a core
  t.is(row("rate", "tcp-fallback")?.cpuSeconds, 2);
  t.is(row("p99", "tcp-fallback")?.vsHaproxy, 0.5);
  t.is(row("p99", "haproxy")?.cpuSeconds, null); // CPU goes with the headline figure only
  t.is(median([1, 2, 3, 4]), 2.5);
  t.is(median([]), null);
  t.deepEqual(
    [formatNumber(123456.7), formatNumber(12.34), formatNumber(0.0123)],
    ["123457", "12.3", "0.012"],
  );
});
