import test from "ava";
import type { Socket } from "node:net";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { connectTo, roundTrip, startBackend } from "../helpers/net.js";
import { startProxy } from "../helpers/proxy.js";
import { call } from "./helpers.js";

/** Two echo backends (A primary, B fallback) and a proxy with the admin server on loopback. */
const setUp = async (t: import("ava").ExecutionContext, token?: string) => {
  const a = await startBackend();
  const b = await startBackend();
  const running = await startProxy({
    backends: [a.address, b.address],
    statsInterval: 0,
    drainTimeout: 0,
    admin: token === undefined ? "127.0.0.1:0" : { address: "127.0.0.1:0", token },
  });
  t.teardown(async () => {
    await running.proxy.close();
    await a.close();
    await b.close();
  });
  const admin = await running.proxy.admin;
  if (admin === null) throw new Error("no admin server");
  return { a, b, ...running, adminPort: admin.port };
};

interface StatusBody {
  readonly version: string;
  readonly listen: string;
  readonly route: { readonly backends: string[] };
  readonly backends: Array<{ id: string; state: string; index: number; requests: number }>;
}

test("GET /status: version, listen address, route and every backend with counters", async (t) => {
  const { a, b, port, adminPort } = await setUp(t);
  await roundTrip(port, "hello");
  const { status, body } = await call(adminPort, "GET", "/status");
  t.is(status, 200);
  const s = body as StatusBody;
  t.regex(s.version, /^\d+\.\d+/);
  t.is(s.listen, `127.0.0.1:${port}`);
  t.deepEqual(s.route.backends, [a.address, b.address]);
  t.deepEqual(
    s.backends.map((x) => [x.id, x.index, x.state]),
    [
      [a.address, 0, "up"],
      [b.address, 1, "up"],
    ],
  );
  t.is(s.backends[0]?.requests, 1);
});

test("drain: no new clients for the backend, its live connection keeps working; enable restores", async (t) => {
  const { a, b, port, adminPort } = await setUp(t);
  const live: Socket = await connectTo(port);
  live.write("x");
  await once(live, "data");
  t.is(a.served(), 1);
  const drained = await call(adminPort, "POST", `/backends/${a.address}/drain`);
  t.is(drained.status, 200);
  await roundTrip(port, "new");
  t.is(b.served(), 1, "a new client goes to B");
  t.is(a.served(), 1);
  live.write("still");
  const [echo] = (await once(live, "data")) as [Buffer];
  t.is(echo.toString(), "still", "the drained backend's live connection still works");
  const s = (await call(adminPort, "GET", "/status")).body as StatusBody;
  t.is(s.backends[0]?.state, "drain");
  t.deepEqual(s.route.backends, [b.address]);
  t.is((await call(adminPort, "POST", `/backends/${a.address}/enable`)).status, 200);
  await roundTrip(port, "back");
  t.is(a.served(), 2, "enabled: new clients go to A again");
  live.destroy();
});

test("maint: shown as maintenance and out of the route; enable restores", async (t) => {
  const { a, b, adminPort, events } = await setUp(t);
  t.is(
    (await call(adminPort, "POST", `/backends/${encodeURIComponent(a.address)}/maint`)).status,
    200,
  );
  const s = (await call(adminPort, "GET", "/status")).body as StatusBody;
  t.is(s.backends[0]?.state, "maint");
  t.deepEqual(s.route.backends, [b.address]);
  t.true(events.some((e) => e.type === "backend-admin" && e.action === "maint"));
  await call(adminPort, "POST", `/backends/${a.address}/enable`);
  const after = (await call(adminPort, "GET", "/status")).body as StatusBody;
  t.is(after.backends[0]?.state, "up");
  t.deepEqual(after.route.backends, [a.address, b.address]);
});

test("POST /route sends new clients to a backend; DELETE /route gives the route back to the policy", async (t) => {
  const { a, b, port, adminPort } = await setUp(t);
  const set = await call(adminPort, "POST", "/route", {
    body: JSON.stringify({ backend: b.address }),
  });
  t.is(set.status, 200);
  await roundTrip(port, "one");
  t.is(b.served(), 1);
  t.is(a.served(), 0);
  t.deepEqual(((await call(adminPort, "GET", "/status")).body as StatusBody).route.backends, [
    b.address,
    a.address,
  ]);
  t.is((await call(adminPort, "DELETE", "/route")).status, 200);
  await roundTrip(port, "two");
  t.is(a.served(), 1);
});

test("close-sessions closes the backend's live connections", async (t) => {
  const { a, port, adminPort } = await setUp(t);
  const live = await connectTo(port);
  live.write("x");
  await once(live, "data");
  live.on("error", () => undefined);
  const closed = new Promise((resolve) => live.once("close", resolve));
  const answer = await call(adminPort, "POST", `/backends/${a.address}/close-sessions`);
  t.is(answer.status, 200);
  t.is((answer.body as { closed: number }).closed, 1);
  await closed;
  t.pass();
});

test("errors are JSON with 4xx: unknown id, unknown path, wrong method, bad JSON, big body", async (t) => {
  const { adminPort } = await setUp(t);
  const unknown = await call(adminPort, "POST", "/backends/nope:1/drain");
  t.is(unknown.status, 404);
  t.regex((unknown.body as { error: string }).error, /no backend "nope:1"/);
  t.is((await call(adminPort, "POST", "/route", { body: '{"backend":"nope"}' })).status, 404);
  t.is((await call(adminPort, "GET", "/nothing")).status, 404);
  const wrong = await call(adminPort, "POST", "/status");
  t.is(wrong.status, 405);
  t.is(wrong.headers.allow, "GET, HEAD");
  t.is((await call(adminPort, "GET", "/failback")).headers.allow, "POST");
  const bad = await call(adminPort, "POST", "/route", { body: "{not json" });
  t.is(bad.status, 400);
  t.deepEqual(bad.body, { error: "the body is not valid JSON" });
  t.is((await call(adminPort, "POST", "/route", { body: "[]" })).status, 400);
  const big = await call(adminPort, "POST", "/route", { body: Buffer.alloc(17 * 1024, 32) });
  t.is(big.status, 413);
  // Still serving after all of it.
  t.is((await call(adminPort, "GET", "/status")).status, 200);
});

test("with a token every request needs it as a Bearer token; else 401", async (t) => {
  const { adminPort } = await setUp(t, "s3cret");
  const none = await call(adminPort, "GET", "/status");
  t.is(none.status, 401);
  t.truthy((none.body as { error: string }).error);
  t.is((await call(adminPort, "GET", "/status", { token: "wrong" })).status, 401);
  t.is((await call(adminPort, "GET", "/status", { token: "s3cret" })).status, 200);
  // The metrics need it as much as the API does.
  const base = `http://127.0.0.1:${adminPort}`;
  t.is((await fetch(`${base}/metrics`)).status, 401);
  const metrics = await fetch(`${base}/metrics`, { headers: { authorization: "Bearer s3cret" } });
  t.is(metrics.status, 200);
  t.regex(await metrics.text(), /^tcp_fallback_up\{backend="127\.0\.0\.1:\d+",index="0"\} 1$/m);
});

test("GET /metrics on the admin server: check durations from the start-up checks, the route", async (t) => {
  const { a, adminPort } = await setUp(t);
  // The start-up check of each backend is in flight as the proxy starts: bounded poll.
  let text = "";
  for (let i = 0; i < 100; i++) {
    text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    if (/^tcp_fallback_check_duration_seconds_count\{[^}]*index="1"\} [1-9]/m.test(text)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  t.regex(text, /^tcp_fallback_check_duration_seconds_count\{[^}]*index="0"\} [1-9]/m);
  t.regex(text, /^tcp_fallback_check_duration_seconds_count\{[^}]*index="1"\} [1-9]/m);
  t.true(text.includes(`tcp_fallback_route_primary{backend="${a.address}",index="0"} 1`));
});

test("with a token the page's HTML is served without it: it holds no data and asks for the token", async (t) => {
  const { adminPort } = await setUp(t, "s3cret");
  const page = await fetch(`http://127.0.0.1:${adminPort}/`);
  t.is(page.status, 200);
  t.regex(page.headers.get("content-type") ?? "", /^text\/html/);
  const html = await page.text();
  t.false(html.includes("127.0.0.1"), "no backend address in the page itself");
  t.is((await fetch(`http://127.0.0.1:${adminPort}/events`)).status, 401);
});

test("proxy.adminRoutes() serves the admin API on a server the program owns, token and all", async (t) => {
  const a = await startBackend();
  const running = await startProxy({ backends: [a.address], statsInterval: 0, drainTimeout: 0 });
  const routes = running.proxy.adminRoutes({ token: "own" });
  const server = createServer(routes.listener);
  t.teardown(async () => {
    routes.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await running.proxy.close();
    await a.close();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  t.is(running.proxy.admin, null);
  t.is((await call(port, "GET", "/status")).status, 401);
  const status = await call(port, "GET", "/status", { token: "own" });
  t.is(status.status, 200);
  t.deepEqual((status.body as StatusBody).route.backends, [a.address]);
  const drained = await call(port, "POST", `/backends/${a.address}/drain`, { token: "own" });
  t.is(drained.status, 200);
  const after = (await call(port, "GET", "/status", { token: "own" })).body as StatusBody;
  t.is(after.backends[0]?.state, "drain");
});

test("extra handlers answer first; the rest falls through to the server's routes", async (t) => {
  const a = await startBackend();
  const running = await startProxy({
    backends: [a.address],
    statsInterval: 0,
    drainTimeout: 0,
    admin: {
      address: "127.0.0.1:0",
      handlers: [
        (req, res) => {
          if (req.url !== "/metrics") return false;
          res.end('{"metrics":1}');
          return true;
        },
      ],
    },
  });
  t.teardown(async () => {
    await running.proxy.close();
    await a.close();
  });
  const admin = await running.proxy.admin;
  t.deepEqual((await call(admin?.port ?? 0, "GET", "/metrics")).body, { metrics: 1 });
  t.is((await call(admin?.port ?? 0, "GET", "/status")).status, 200);
});
