import test from "ava";
import { once } from "node:events";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { AdminHandler } from "../../src/adapters/admin/admin-server.js";
import { createMetrics } from "../../src/adapters/admin/metrics.js";
import { failureCode } from "../../src/adapters/admin/failure-code.js";
import type { ProbeResult } from "../../src/domain/probe.js";
import { createControlPlane } from "../../src/create-control-plane.js";
import { version } from "../../src/version.js";
import { connectTo, readAll, refusedPort, roundTrip, startBackend } from "../helpers/net.js";
import { nextEvent, startProxy } from "../helpers/proxy.js";

type Labels = Readonly<Record<string, string>>;

/** The value of the sample `name` whose labels include `labels`, or undefined. */
const sample = (text: string, name: string, labels: Labels = {}): number | undefined => {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      found[pair[1] as string] = pair[2] as string;
    if (Object.entries(labels).every(([key, value]) => found[key] === value))
      return Number(match[3]);
  }
  return undefined;
};

const get = async (port: number, path: string, method = "GET"): Promise<Response> =>
  fetch(`http://127.0.0.1:${port}${path}`, { method, signal: AbortSignal.timeout(5_000) });

/** Scrapes until `ready` holds for the text (bounded: the relay tallies traffic a turn later). */
const scrapeUntil = async (
  port: number,
  ready: (text: string) => boolean,
  boundMs = 5_000,
): Promise<string> => {
  const started = Date.now();
  let text = "";
  while (Date.now() - started < boundMs) {
    text = await (await get(port, "/metrics")).text();
    if (ready(text)) return text;
    await sleep(50);
  }
  return text;
};

/** An http server on loopback with `handler` mounted and a 404 for what it leaves. */
const serveMetrics = async (handler: AdminHandler): Promise<{ server: Server; port: number }> => {
  const server = createServer((req, res) => {
    if (!handler(req, res)) {
      res.writeHead(404);
      res.end("not here\n");
    }
  });
  server.listen({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  return { server, port: (server.address() as AddressInfo).port };
};

test("failureCode keeps reasons to a short, bounded code", (t) => {
  t.is(failureCode("connect ECONNREFUSED 127.0.0.1:4000"), "ECONNREFUSED");
  t.is(failureCode("read ECONNRESET"), "ECONNRESET");
  t.is(failureCode("connect timeout after 5s"), "timeout");
  t.is(failureCode("check timed out"), "timeout");
  t.is(failureCode("redis: role:slave, not the primary"), "other");
  t.is(failureCode(""), "other");
});

test("GET /metrics shows every family, with values after traffic, a failover and a refused client", async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  const deadPort = await refusedPort();
  const c = `127.0.0.1:${deadPort}`;
  // Checks the test controls: health flips on demand; traffic goes over real sockets.
  const healthy = [true, true, true];
  const { proxy, port } = await startProxy({
    backends: [a.address, b.address, c],
    checkInterval: "200ms",
    probeDelay: "200ms",
    statsInterval: 0,
    probe: (backend): Promise<ProbeResult> =>
      Promise.resolve(
        healthy[backend.index] === true
          ? { ok: true }
          : { ok: false, reason: `connect ECONNREFUSED ${backend.label}` },
      ),
  });
  const metrics = await createMetrics(proxy);
  const { server, port: metricsPort } = await serveMetrics(metrics.handler);
  t.teardown(async () => {
    metrics.stop();
    server.close();
    await proxy.close();
    await a.close();
    await b.close();
  });
  const A = { backend: a.address, index: "0" };
  const B = { backend: b.address, index: "1" };
  const C = { backend: c, index: "2" };

  // At start: everything up, new clients to the primary, build info and process metrics.
  const response = await get(metricsPort, "/metrics");
  t.is(response.status, 200);
  t.regex(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  let text = await response.text();
  for (const labels of [A, B, C]) {
    t.is(sample(text, "tcp_fallback_up", labels), 1);
    t.is(sample(text, "tcp_fallback_state", { ...labels, state: "up" }), 1);
    for (const state of ["down", "rising", "falling", "drain", "maint"])
      t.is(sample(text, "tcp_fallback_state", { ...labels, state }), 0, state);
    t.is(sample(text, "tcp_fallback_state_changes_total", labels), 0);
    t.is(sample(text, "tcp_fallback_connections_total", labels), 0);
    t.is(sample(text, "tcp_fallback_downtime_seconds_total", labels), 0);
  }
  t.is(sample(text, "tcp_fallback_route_primary", A), 1);
  t.is(sample(text, "tcp_fallback_route_primary", B), 0);
  t.is(sample(text, "tcp_fallback_failovers_total"), 0);
  t.is(sample(text, "tcp_fallback_build_info", { version }), 1);
  t.true((sample(text, "tcp_fallback_process_cpu_user_seconds_total") ?? -1) >= 0);
  t.true((sample(text, "tcp_fallback_nodejs_heap_size_used_bytes") ?? 0) > 0);
  for (const family of [
    "connections_active",
    "received_bytes_total",
    "sent_bytes_total",
    "clients_accepted_total",
    "clients_refused_total",
    "clients_active",
    "connect_errors_total",
    "check_failures_total",
  ])
    t.regex(text, new RegExp(`^# TYPE tcp_fallback_${family} (gauge|counter)$`, "m"), family);

  // Traffic: two clients through the primary, one held open.
  t.is((await roundTrip(port, "hello")).toString(), "hello");
  t.is((await roundTrip(port, "world!")).toString(), "world!");
  const held = await connectTo(port);
  text = await scrapeUntil(
    metricsPort,
    (s) =>
      sample(s, "tcp_fallback_connections_total", A) === 3 &&
      sample(s, "tcp_fallback_received_bytes_total", A) === 11 &&
      sample(s, "tcp_fallback_sent_bytes_total", A) === 11,
  );
  t.is(sample(text, "tcp_fallback_connections_total", A), 3);
  t.is(sample(text, "tcp_fallback_connections_active", A), 1);
  t.is(sample(text, "tcp_fallback_received_bytes_total", A), 11);
  t.is(sample(text, "tcp_fallback_sent_bytes_total", A), 11);
  t.is(sample(text, "tcp_fallback_clients_accepted_total"), 3);
  t.is(sample(text, "tcp_fallback_clients_active"), 1);
  held.destroy();

  // A failover: the primary's check fails.
  const down = nextEvent(proxy.events$, "backend-down", a.address);
  healthy[0] = false;
  await down;
  t.is((await roundTrip(port, "moved")).toString(), "moved");
  text = await scrapeUntil(
    metricsPort,
    (s) =>
      sample(s, "tcp_fallback_connections_total", B) === 1 &&
      (sample(s, "tcp_fallback_downtime_seconds_total", A) ?? 0) > 0,
  );
  t.is(sample(text, "tcp_fallback_up", A), 0);
  t.is(sample(text, "tcp_fallback_state", { ...A, state: "down" }), 1);
  t.is(sample(text, "tcp_fallback_state", { ...A, state: "up" }), 0);
  t.is(sample(text, "tcp_fallback_state_changes_total", A), 1);
  t.true(
    (sample(text, "tcp_fallback_check_failures_total", { ...A, reason: "ECONNREFUSED" }) ?? 0) >= 1,
  );
  t.is(sample(text, "tcp_fallback_route_primary", A), 0);
  t.is(sample(text, "tcp_fallback_route_primary", B), 1);
  t.is(sample(text, "tcp_fallback_failovers_total"), 1);
  t.is(sample(text, "tcp_fallback_connections_total", B), 1);
  t.true((sample(text, "tcp_fallback_downtime_seconds_total", A) ?? 0) > 0);

  // The last backend left refuses for real: a connect error, then a refused client.
  const downB = nextEvent(proxy.events$, "backend-down", b.address);
  healthy[1] = false;
  await downB;
  const client = await connectTo(port);
  await readAll(client);
  client.destroy();
  text = await scrapeUntil(
    metricsPort,
    (s) => sample(s, "tcp_fallback_clients_refused_total") === 1,
  );
  t.is(sample(text, "tcp_fallback_connect_errors_total", { ...C, reason: "ECONNREFUSED" }), 1);
  t.is(sample(text, "tcp_fallback_clients_refused_total"), 1);
  t.is(sample(text, "tcp_fallback_up", C), 0);
  t.is(sample(text, "tcp_fallback_route_primary", C), 0);
  // Going from C to no backend at all is an outage, not a failover.
  t.is(sample(text, "tcp_fallback_failovers_total"), 2);

  // Back: the primary's check passes again, new clients go to it.
  const up = nextEvent(proxy.events$, "backend-up", a.address);
  healthy[0] = true;
  await up;
  text = await scrapeUntil(metricsPort, (s) => sample(s, "tcp_fallback_route_primary", A) === 1);
  t.is(sample(text, "tcp_fallback_up", A), 1);
  t.is(sample(text, "tcp_fallback_route_primary", A), 1);
  t.is(sample(text, "tcp_fallback_route_primary", C), 0);
  t.is(sample(text, "tcp_fallback_failovers_total"), 3);
  t.is(sample(text, "tcp_fallback_state_changes_total", A), 2);
  const downtime = sample(text, "tcp_fallback_downtime_seconds_total", A) ?? 0;
  t.true(downtime > 0);
  // An ended outage's downtime stays put.
  await sleep(50);
  text = await (await get(metricsPort, "/metrics")).text();
  t.is(sample(text, "tcp_fallback_downtime_seconds_total", A), downtime);
});

test("the handler leaves other paths, refuses other methods, and stop() ends the subscriptions", async (t) => {
  const a = await startBackend();
  const { proxy } = await startProxy({ backends: [a.address], statsInterval: 0 });
  const metrics = await createMetrics(proxy);
  const { server, port } = await serveMetrics(metrics.handler);
  t.teardown(async () => {
    server.close();
    await proxy.close();
    await a.close();
  });
  t.is((await get(port, "/other")).status, 404);
  t.is((await get(port, "/metricsx")).status, 404);
  t.is((await get(port, "/metrics?x=1")).status, 200);
  const post = await get(port, "/metrics", "POST");
  t.is(post.status, 405);
  t.like(await post.json(), { error: "POST not allowed on /metrics" });
  const head = await get(port, "/metrics", "HEAD");
  t.is(head.status, 200);
  t.is(await head.text(), "");
  metrics.stop();
  t.is(
    sample(await (await get(port, "/metrics")).text(), "tcp_fallback_up", { index: "0" }),
    undefined,
  );
});

test("two metrics sets on one process keep their own registries", async (t) => {
  const a = await startBackend();
  const one = await startProxy({ backends: [a.address], statsInterval: 0 });
  const two = await startProxy({ backends: [a.address], statsInterval: 0 });
  const first = await createMetrics(one.proxy);
  const second = await createMetrics(two.proxy);
  const served = await serveMetrics(first.handler);
  t.teardown(async () => {
    first.stop();
    second.stop();
    served.server.close();
    await one.proxy.close();
    await two.proxy.close();
    await a.close();
  });
  await roundTrip(one.port, "x");
  const text = await scrapeUntil(
    served.port,
    (s) => sample(s, "tcp_fallback_connections_total", { index: "0" }) === 1,
  );
  t.is(sample(text, "tcp_fallback_connections_total", { index: "0" }), 1);
});

test("checks$ feeds the check duration histogram: every check with a latency, per backend", async (t) => {
  // A passes in 3 ms, B fails in 2 s, C never says how long it took.
  const probe = (backend: { readonly index: number }): Promise<ProbeResult> =>
    Promise.resolve<ProbeResult>(
      backend.index === 0
        ? { ok: true, latencyMs: 3 }
        : backend.index === 1
          ? { ok: false, reason: "connect ECONNREFUSED", latencyMs: 2_000 }
          : { ok: true },
    );
  const control = createControlPlane({
    backends: ["127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"],
    probe,
    checkInterval: "20ms",
    statsInterval: 0,
  });
  const metrics = await createMetrics(control);
  const { server, port } = await serveMetrics(metrics.handler);
  t.teardown(() => {
    metrics.stop();
    control.stop();
    server.close();
  });
  const A = { backend: "127.0.0.1:7001", index: "0" };
  const B = { backend: "127.0.0.1:7002", index: "1" };
  const C = { backend: "127.0.0.1:7003", index: "2" };
  const family = "tcp_fallback_check_duration_seconds";
  const text = await scrapeUntil(
    port,
    (s) =>
      (sample(s, `${family}_count`, A) ?? 0) >= 2 && (sample(s, `${family}_count`, B) ?? 0) >= 2,
  );
  t.regex(text, new RegExp(`^# TYPE ${family} histogram$`, "m"));
  const countA = sample(text, `${family}_count`, A) ?? 0;
  const countB = sample(text, `${family}_count`, B) ?? 0;
  t.true(countA >= 2, `A: ${countA} checks`);
  t.true(countB >= 2, `B: ${countB} checks`);
  // Each check in the bucket its latency falls in, from a millisecond up to 10 s.
  t.is(sample(text, `${family}_bucket`, { ...A, le: "0.001" }), 0);
  t.is(sample(text, `${family}_bucket`, { ...A, le: "0.0025" }), 0);
  t.is(sample(text, `${family}_bucket`, { ...A, le: "0.005" }), countA);
  t.is(sample(text, `${family}_bucket`, { ...A, le: "+Inf" }), countA);
  t.true(Math.abs((sample(text, `${family}_sum`, A) ?? 0) - countA * 0.003) < 1e-9);
  t.is(sample(text, `${family}_bucket`, { ...B, le: "1" }), 0);
  t.is(sample(text, `${family}_bucket`, { ...B, le: "2.5" }), countB);
  t.is(sample(text, `${family}_bucket`, { ...B, le: "10" }), countB);
  t.true(Math.abs((sample(text, `${family}_sum`, B) ?? 0) - countB * 2) < 1e-9);
  // A check that did not measure itself is not a duration: C's series is there, at zero.
  t.is(sample(text, `${family}_count`, C), 0);
  // Failures still counted by reason.
  t.true(
    (sample(text, "tcp_fallback_check_failures_total", { ...B, reason: "ECONNREFUSED" }) ?? 0) >=
      countB,
  );
});

test("without checks$ there is no check duration histogram", async (t) => {
  const control = createControlPlane({
    backends: ["127.0.0.1:7001"],
    probe: () => Promise.resolve<ProbeResult>({ ok: true, latencyMs: 1 }),
    checkInterval: "20ms",
    statsInterval: 0,
  });
  const { health$, route$, events$ } = control;
  const metrics = await createMetrics({ health$, route$, events$ });
  const { server, port } = await serveMetrics(metrics.handler);
  t.teardown(() => {
    metrics.stop();
    control.stop();
    server.close();
  });
  const text = await (await get(port, "/metrics")).text();
  t.is(sample(text, "tcp_fallback_up", { index: "0" }), 1);
  t.notRegex(text, /check_duration_seconds/);
});
