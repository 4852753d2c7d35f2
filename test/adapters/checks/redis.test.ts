import test from "ava";
import { redisCheck, redisPrimaryCheck } from "../../../src/adapters/checks/redis.js";
import { MAX_ANSWER_BYTES } from "../../../src/adapters/checks/exchange.js";
import {
  backendAt,
  closedWithin,
  firstAccepted,
  runProbe,
  startFloodServer,
  startScriptServer,
  startSilentServer,
  startTrickleServer,
} from "../../helpers/bad-peers.js";
import { refusedPort } from "../../helpers/net.js";
import { nextEvent, startProxy } from "../../helpers/proxy.js";
import {
  type RedisServer,
  landingOn,
  okText,
  replicate,
  startRedisServer,
} from "../../helpers/redis-server.js";

const SETTINGS = { timeoutMs: 5_000 };

const withoutLatency = <T extends { latencyMs?: number }>({ latencyMs: _, ...rest }: T) => rest;

const started = async (
  t: { teardown(fn: () => Promise<void>): void },
  options?: { requirepass?: string },
): Promise<RedisServer> => {
  const server = await startRedisServer(options);
  t.teardown(() => server.stop());
  return server;
};

// ----- against a real redis-server

test("redis: PING answered +PONG passes, with the time it took", async (t) => {
  const redis = await started(t);
  const result = await runProbe(redisCheck(SETTINGS), backendAt(redis.port));
  t.true(result.ok, JSON.stringify(result));
  t.is(typeof result.latencyMs, "number");
  t.false("role" in result);
});

test("redis: a password-protected server without a password fails with NOAUTH", async (t) => {
  const redis = await started(t, { requirepass: "s3cret" });
  const result = await runProbe(redisCheck(SETTINGS), backendAt(redis.port));
  t.false(result.ok);
  t.regex(!result.ok ? result.reason : "", /^redis: NOAUTH /);
});

test("redis: the right password (AUTH, then PING) passes", async (t) => {
  const redis = await started(t, { requirepass: "s3cret" });
  const result = await runProbe(
    redisCheck({ ...SETTINGS, password: "s3cret" }),
    backendAt(redis.port),
  );
  t.true(result.ok, JSON.stringify(result));
});

test("redis: AUTH user password (an ACL user) passes; a wrong user fails", async (t) => {
  const redis = await started(t, { requirepass: "s3cret" });
  const good = await runProbe(
    redisCheck({ ...SETTINGS, user: "default", password: "s3cret" }),
    backendAt(redis.port),
  );
  t.true(good.ok, JSON.stringify(good));
  const bad = await runProbe(
    redisCheck({ ...SETTINGS, user: "nobody", password: "s3cret" }),
    backendAt(redis.port),
  );
  t.deepEqual(bad.ok ? "" : bad.reason.split(" ")[1], "WRONGPASS");
});

test("redis: a wrong password fails with the server's WRONGPASS text", async (t) => {
  const redis = await started(t, { requirepass: "s3cret" });
  const result = await runProbe(
    redisCheck({ ...SETTINGS, password: "guess" }),
    backendAt(redis.port),
  );
  t.false(result.ok);
  t.regex(!result.ok ? result.reason : "", /^redis: WRONGPASS invalid username-password pair/);
});

test("redis: a password sent to a server that has none fails with its ERR text", async (t) => {
  const redis = await started(t);
  const result = await runProbe(
    redisCheck({ ...SETTINGS, password: "unneeded" }),
    backendAt(redis.port),
  );
  t.false(result.ok);
  t.regex(!result.ok ? result.reason : "", /^redis: ERR AUTH .*without any password configured/);
});

test("redis-primary: a primary passes with role primary, its replica fails with role:slave; they flip", async (t) => {
  const [one, two] = await Promise.all([started(t), started(t)]);
  await replicate(two, one);
  const check = redisPrimaryCheck(SETTINGS);
  t.like(await runProbe(check, backendAt(one.port)), { ok: true, role: "primary" });
  t.like(await runProbe(check, backendAt(two.port)), { ok: false, reason: "role:slave" });
  // The plain check does not care about roles.
  t.like(await runProbe(redisCheck(SETTINGS), backendAt(two.port)), { ok: true });

  okText(await two.cli("REPLICAOF", "NO", "ONE"));
  await replicate(one, two);
  t.like(await runProbe(check, backendAt(one.port)), { ok: false, reason: "role:slave" });
  t.like(await runProbe(check, backendAt(two.port)), { ok: true, role: "primary" });
});

test("redis-primary: logs in first on a password-protected primary", async (t) => {
  const redis = await started(t, { requirepass: "s3cret" });
  t.like(await runProbe(redisPrimaryCheck(SETTINGS), backendAt(redis.port)), { ok: false });
  t.like(
    await runProbe(redisPrimaryCheck({ ...SETTINGS, password: "s3cret" }), backendAt(redis.port)),
    { ok: true, role: "primary" },
  );
});

// ----- end to end: the proxy follows the primary

test("end to end: with redis-primary checks, writes follow a promoted replica", async (t) => {
  const [one, two] = await Promise.all([started(t), started(t)]);
  await replicate(two, one);
  const { proxy, port, events } = await startProxy({
    backends: [`127.0.0.1:${one.port}`, `127.0.0.1:${two.port}`],
    check: "redis-primary",
    checkInterval: "100ms",
    connectTimeout: "1s",
  });
  t.teardown(() => proxy.close());
  // The replica's first check marks it down (it may have done so before the proxy listened).
  const replicaDown =
    events.find((event) => event.type === "backend-down" && event.backend.index === 1) ??
    (await nextEvent(proxy.events$, "backend-down", `127.0.0.1:${two.port}`));
  t.like(replicaDown, { reason: "role:slave" });
  t.deepEqual(await landingOn(port, one.port, 10_000), { wrote: true, port: one.port });

  const promotedAt = Date.now();
  okText(await two.cli("REPLICAOF", "NO", "ONE"));
  okText(await one.cli("REPLICAOF", "127.0.0.1", String(two.port)));
  const landed = await landingOn(port, two.port, 10_000);
  const switchMs = Date.now() - promotedAt;
  t.deepEqual(landed, { wrote: true, port: two.port });
  t.log(`first write on the promoted replica ${switchMs} ms after its promotion`);
  // The demoted primary took no more clients because its check failed on its role.
  t.true(
    events.some(
      (event) =>
        event.type === "backend-down" && event.backend.index === 0 && event.reason === "role:slave",
    ),
  );
});

// ----- misbehaving servers: failed checks, never a crash or a leak

test("redis: an error answer such as LOADING fails with the server's text", async (t) => {
  const server = await startScriptServer(["-LOADING Redis is loading the dataset in memory\r\n"]);
  t.teardown(() => server.close());
  t.deepEqual(await runProbe(redisCheck(SETTINGS), backendAt(server.port)).then(withoutLatency), {
    ok: false,
    reason: "redis: LOADING Redis is loading the dataset in memory",
  });
});

test("redis: replies split over many TCP segments are put together", async (t) => {
  const info = "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n";
  const bulk = `$${info.length}\r\n${info}\r\n`;
  const answer = `+OK\r\n${bulk}`;
  // One segment per few bytes, cut inside the length line, the body and the final CRLF.
  const parts = answer.match(/[^]{1,7}/g) ?? [];
  const server = await startScriptServer(parts, false, 5);
  t.teardown(() => server.close());
  const received: Buffer[] = [];
  server.server.on("connection", (socket) =>
    socket.on("data", (chunk: Buffer) => received.push(chunk)),
  );
  const result = await runProbe(
    redisPrimaryCheck({ ...SETTINGS, password: "pw" }),
    backendAt(server.port),
  );
  t.like(result, { ok: true, role: "primary" });
  // AUTH and INFO, pipelined.
  t.is(
    Buffer.concat(received).toString(),
    "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*2\r\n$4\r\nINFO\r\n$11\r\nreplication\r\n",
  );
});

test("redis: a server that never answers fails at the timeout and sees the check close", async (t) => {
  const server = await startSilentServer();
  t.teardown(() => server.close());
  const begun = Date.now();
  const result = await runProbe(redisCheck({ timeoutMs: 1_000 }), backendAt(server.port));
  t.deepEqual(withoutLatency(result), { ok: false, reason: "no answer within 1s" });
  t.true(Date.now() - begun < 10_000);
  t.true(await closedWithin(await firstAccepted(server), 1_000), "the check closed its socket");
});

test("redis: a reply that never ends fails by the byte limit", async (t) => {
  const server = await startFloodServer("a".repeat(4096), "+");
  t.teardown(() => server.close());
  const result = await runProbe(redisCheck({ timeoutMs: 10_000 }), backendAt(server.port));
  t.deepEqual(withoutLatency(result), {
    ok: false,
    reason: `no valid answer in the first ${MAX_ANSWER_BYTES} bytes`,
  });
  t.true(await closedWithin(await firstAccepted(server), 1_000), "the check closed its socket");
});

test("redis: a trickling reply fails at the timeout, not after every byte", async (t) => {
  const server = await startTrickleServer("+", "a", 20);
  t.teardown(() => server.close());
  const begun = Date.now();
  const result = await runProbe(redisCheck({ timeoutMs: 1_000 }), backendAt(server.port));
  t.deepEqual(withoutLatency(result), { ok: false, reason: "no answer within 1s" });
  t.true(Date.now() - begun < 10_000);
});

test("redis: garbage fails at once as not a redis reply", async (t) => {
  const server = await startFloodServer("HTTP/1.1 400 Bad Request\r\n");
  t.teardown(() => server.close());
  const result = await runProbe(redisCheck(SETTINGS), backendAt(server.port));
  t.deepEqual(withoutLatency(result), {
    ok: false,
    reason: 'redis: not a redis reply (starts with "H")',
  });
  t.true(await closedWithin(await firstAccepted(server), 1_000), "the check closed its socket");
});

test("redis: a server that closes mid-answer fails", async (t) => {
  const server = await startScriptServer(["$100\r\nrole:mas"], true);
  t.teardown(() => server.close());
  const result = await runProbe(redisPrimaryCheck(SETTINGS), backendAt(server.port));
  t.deepEqual(withoutLatency(result), { ok: false, reason: "closed the connection mid-answer" });
});

test("redis: an unexpected answer to PING fails", async (t) => {
  const server = await startScriptServer([":1\r\n"]);
  t.teardown(() => server.close());
  const result = await runProbe(redisCheck(SETTINGS), backendAt(server.port));
  t.deepEqual(withoutLatency(result), { ok: false, reason: "redis: unexpected answer to PING" });
});

test("redis: a refused connect fails with the reason", async (t) => {
  const port = await refusedPort();
  const result = await runProbe(redisCheck(SETTINGS), backendAt(port));
  t.false(result.ok);
  t.regex(!result.ok ? result.reason : "", /ECONNREFUSED/);
});
