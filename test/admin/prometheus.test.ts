import test from "ava";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { createMetrics } from "../../src/adapters/admin/metrics.js";
import type { ProbeResult } from "../../src/domain/probe.js";
import { roundTrip, startBackend } from "../helpers/net.js";
import { type PrometheusServer, startPrometheus } from "../helpers/prometheus-server.js";
import { nextEvent, startProxy } from "../helpers/proxy.js";

const POLL_MS = 250;
const TRANSITION_BOUND_MS = 20_000;

/** The value of a one-series query, or undefined while Prometheus has none. */
const valueOf = async (prometheus: PrometheusServer, expr: string): Promise<string | undefined> => {
  const [series, ...more] = await prometheus.query(expr);
  if (more.length > 0) throw new Error(`${expr}: more than one series`);
  return series?.value?.[1];
};

/** Polls the query API until `expr` has `value` (bounded); what it saw last, for the message. */
const waitForValue = async (
  prometheus: PrometheusServer,
  expr: string,
  value: string,
): Promise<string | undefined> => {
  const started = Date.now();
  let seen: string | undefined;
  while (Date.now() - started < TRANSITION_BOUND_MS) {
    seen = await valueOf(prometheus, expr);
    if (seen === value) return seen;
    await sleep(POLL_MS);
  }
  return seen;
};

/** The values a range query's only series took, in time order, with repeats collapsed. */
const distinctRun = (values: ReadonlyArray<[number, string]>): string[] =>
  values.map(([, v]) => v).filter((v, i, all) => i === 0 || all[i - 1] !== v);

test("a real Prometheus scraping /metrics sees the primary's up go 1, 0, 1 around a kill and a restart", async (t) => {
  const primary = await startBackend();
  const fallback = await startBackend();
  // The primary's "kill" and "restart" are its checks failing and passing (the test flips
  // them); clients go over real sockets.
  const alive = [true, true];
  const { proxy, port } = await startProxy({
    backends: [primary.address, fallback.address],
    checkInterval: "200ms",
    probeDelay: "200ms",
    statsInterval: 0,
    probe: (backend): Promise<ProbeResult> =>
      Promise.resolve(
        alive[backend.index] === true
          ? { ok: true }
          : { ok: false, reason: `connect ECONNREFUSED ${backend.label}` },
      ),
  });
  const metrics = await createMetrics(proxy);
  const server = createServer((req, res) => {
    if (!metrics.handler(req, res)) {
      res.writeHead(404);
      res.end();
    }
  });
  server.listen({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  const metricsPort = (server.address() as AddressInfo).port;
  t.teardown(async () => {
    metrics.stop();
    server.close();
    await proxy.close();
    await primary.close();
    await fallback.close();
  });
  const prometheus = await startPrometheus(`127.0.0.1:${metricsPort}`);
  t.teardown(() => prometheus.stop());

  const up = 'tcp_fallback_up{index="0"}';
  t.is(await waitForValue(prometheus, up, "1"), "1", "the primary up before the kill");
  // Prometheus parsed the whole exposition: its own scrape health of the target is 1.
  t.is(await valueOf(prometheus, 'up{job="tcp-fallback"}'), "1");
  t.is(await valueOf(prometheus, 'tcp_fallback_route_primary{index="0"}'), "1");
  t.is((await roundTrip(port, "before")).toString(), "before");

  const down = nextEvent(proxy.events$, "backend-down", primary.address);
  alive[0] = false;
  await down;
  t.is(await waitForValue(prometheus, up, "0"), "0", "the primary down after the kill");
  t.is(
    await waitForValue(prometheus, 'tcp_fallback_route_primary{index="1"}', "1"),
    "1",
    "new clients to the fallback",
  );
  t.is((await roundTrip(port, "during")).toString(), "during");

  const back = nextEvent(proxy.events$, "backend-up", primary.address);
  alive[0] = true;
  await back;
  t.is(await waitForValue(prometheus, up, "1"), "1", "the primary up after the restart");
  t.is(
    await waitForValue(prometheus, "tcp_fallback_failovers_total", "2"),
    "2",
    "a failover and a failback",
  );
  t.is(
    await waitForValue(prometheus, 'tcp_fallback_connections_total{index="1"}', "1"),
    "1",
    "the client during the outage went to the fallback",
  );

  // Its stored samples show the same story, in order.
  const [history] = await prometheus.query(`${up}[5m]`);
  t.deepEqual(distinctRun(history?.values ?? []), ["1", "0", "1"]);
});
