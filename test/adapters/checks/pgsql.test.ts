import test from "ava";
import { spawn } from "node:child_process";
import { once } from "node:events";
import type { Socket } from "node:net";
import { filter, firstValueFrom, from } from "rxjs";
import pg from "pg";
import type { Backend } from "../../../src/domain/backend.js";
import type { CheckSettings } from "../../../src/domain/check.js";
import type { Probe, ProbeResult } from "../../../src/domain/probe.js";
import { SSL_REQUEST, pgsqlCheck, pgsqlPrimaryCheck } from "../../../src/adapters/checks/pgsql.js";
import { type TestBackend, refusedPort, startBackend } from "../../helpers/net.js";
import {
  CHECK_PASSWORD,
  CHECK_USER,
  type PostgresCluster,
  type PostgresServer,
  STREAMING,
  startPostgresCluster,
} from "../../helpers/postgres-server.js";
import { startProxy } from "../../helpers/proxy.js";

/** The bound of checks that must time out: a silent server. */
const BOUND_MS = 300;
/** The bound of checks whose server answers: room for a loaded machine, never waited in full. */
const ANSWER_MS = 5_000;
const settings: CheckSettings = { timeoutMs: 2000, user: CHECK_USER, password: CHECK_PASSWORD };

const backendAt = (port: number, index = 0): Backend => ({
  index,
  id: `127.0.0.1:${port}`,
  address: { host: "127.0.0.1", port },
  label: `127.0.0.1:${port}`,
});

const check = (probe: Probe, port: number): Promise<ProbeResult> =>
  firstValueFrom(from(probe(backendAt(port))));

/** Rejects after `ms`: every wait in these tests is bounded. */
const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
};

/** Resolves when the check has closed its side of an accepted socket (FIN or reset). */
const closed = (socket: Socket): Promise<unknown> =>
  socket.readableEnded || socket.closed
    ? Promise.resolve()
    : Promise.race([once(socket, "end"), once(socket, "close")]);

/** A fake server that answers the first bytes it gets with `answer` (and keeps them). */
const answering = async (answer: (request: Buffer, socket: Socket) => void): Promise<TestBackend> =>
  startBackend((socket) => socket.once("data", (request: Buffer) => answer(request, socket)));

/** A server that accepts and never says a word. */
const silent = (): Promise<TestBackend> => startBackend(() => undefined);

// --- pgsql: the SSLRequest exchange, against fake servers -------------------------------------

test("pgsqlCheck sends an SSLRequest and passes on N", async (t) => {
  let request: Buffer = Buffer.alloc(0);
  const server = await answering((bytes, socket) => {
    request = bytes;
    socket.write("N");
  });
  t.teardown(() => server.close());
  const result = await check(pgsqlCheck({ timeoutMs: ANSWER_MS }), server.port);
  t.true(result.ok);
  t.is(typeof result.latencyMs, "number");
  t.deepEqual(request, Buffer.from("0000000804d2162f", "hex"));
  t.deepEqual(SSL_REQUEST.readUInt32BE(4), 80877103);
});

test("pgsqlCheck passes on S and closes without a TLS handshake", async (t) => {
  const server = await answering((_, socket) => socket.write("S"));
  t.teardown(() => server.close());
  t.true((await check(pgsqlCheck({ timeoutMs: ANSWER_MS }), server.port)).ok);
  const [accepted] = server.accepted;
  if (accepted === undefined) return t.fail("no connection");
  await within(closed(accepted), ANSWER_MS, "close");
  t.pass();
});

test("pgsqlCheck fails on garbage", async (t) => {
  const server = await answering((_, socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
  t.teardown(() => server.close());
  const result = await check(pgsqlCheck({ timeoutMs: ANSWER_MS }), server.port);
  t.like(result, { ok: false, reason: 'not a PostgreSQL answer: "HTTP/1.1 400 Bad"...' });
});

test("pgsqlCheck fails on an N followed by more bytes", async (t) => {
  const server = await answering((_, socket) => socket.write("NOPE\r\n"));
  t.teardown(() => server.close());
  const result = await check(pgsqlCheck({ timeoutMs: ANSWER_MS }), server.port);
  t.like(result, { ok: false, reason: 'not a PostgreSQL answer: "NOPE\\r\\n"' });
});

test("pgsqlCheck fails on an error message instead of the one-byte answer", async (t) => {
  const server = await answering((_, socket) =>
    socket.end(Buffer.concat([Buffer.from("E\0\0\0\x10"), Buffer.from("SFATAL\0Mno\0\0")])),
  );
  t.teardown(() => server.close());
  const result = await check(pgsqlCheck({ timeoutMs: ANSWER_MS }), server.port);
  t.like(result, {
    ok: false,
    reason: "not a PostgreSQL answer: an error message to the SSL request",
  });
});

test("pgsqlCheck fails on a server that never answers, and closes the socket on the bound", async (t) => {
  const server = await silent();
  t.teardown(() => server.close());
  const started = Date.now();
  const result = await check(pgsqlCheck({ timeoutMs: BOUND_MS }), server.port);
  t.like(result, { ok: false, reason: "no answer within 300ms" });
  t.true(Date.now() - started >= BOUND_MS - 5);
  const [accepted] = server.accepted;
  if (accepted === undefined) return t.fail("no connection");
  await within(closed(accepted), 1000, "close");
  t.pass();
});

test("pgsqlCheck fails on a server that closes without answering", async (t) => {
  const server = await answering((_, socket) => socket.end());
  t.teardown(() => server.close());
  const result = await check(pgsqlCheck({ timeoutMs: ANSWER_MS }), server.port);
  t.like(result, { ok: false, reason: "closed the connection without an answer" });
});

test("pgsqlCheck fails on a refused connect", async (t) => {
  const result = await check(pgsqlCheck({ timeoutMs: ANSWER_MS }), await refusedPort());
  t.false(result.ok);
  t.regex(result.ok ? "" : result.reason, /ECONNREFUSED/);
});

// --- pgsql-primary against bad peers: failed checks, never a crash ---------------------------

test("pgsqlPrimaryCheck fails on a refused connect with the driver's message", async (t) => {
  const result = await check(pgsqlPrimaryCheck(settings), await refusedPort());
  t.false(result.ok);
  t.regex(result.ok ? "" : result.reason, /ECONNREFUSED/);
  t.is(typeof result.latencyMs, "number");
});

test("pgsqlPrimaryCheck fails on a server that never answers, within its bound, and closes", async (t) => {
  const server = await silent();
  t.teardown(() => server.close());
  const started = Date.now();
  const result = await check(pgsqlPrimaryCheck({ ...settings, timeoutMs: BOUND_MS }), server.port);
  const elapsed = Date.now() - started;
  t.false(result.ok);
  t.regex(result.ok ? "" : result.reason, /no answer within 300ms|timeout/);
  t.true(elapsed >= BOUND_MS - 5 && elapsed < BOUND_MS + 500, `took ${elapsed} ms`);
  const [accepted] = server.accepted;
  if (accepted === undefined) return t.fail("no connection");
  await within(closed(accepted), 1000, "close");
  t.pass();
});

test("pgsqlPrimaryCheck fails on a server that closes mid-login", async (t) => {
  const server = await answering((_, socket) => socket.end());
  t.teardown(() => server.close());
  const result = await check(pgsqlPrimaryCheck({ ...settings, timeoutMs: ANSWER_MS }), server.port);
  t.like(result, { ok: false, reason: "Connection terminated unexpectedly" });
});

test("pgsqlPrimaryCheck fails on a server that goes away after the login", async (t) => {
  // AuthenticationOk and ReadyForQuery, then a close when the query comes: the driver both
  // rejects the query and emits 'error', which must not be an uncaught one (the no-op listener
  // and the guarded socket each prevent it; without both, this file crashes).
  const server = await answering((_, socket) => {
    socket.write(Buffer.from("520000000800000000" + "5a0000000549", "hex"));
    socket.once("data", () => socket.destroy());
  });
  t.teardown(() => server.close());
  const result = await check(pgsqlPrimaryCheck({ ...settings, timeoutMs: 1000 }), server.port);
  t.like(result, { ok: false, reason: "Connection terminated unexpectedly" });
});

test("pgsqlPrimaryCheck fails on a server that logs in and never answers the query, and closes", async (t) => {
  const server = await answering((_, socket) =>
    socket.write(Buffer.from("520000000800000000" + "5a0000000549", "hex")),
  );
  t.teardown(() => server.close());
  const started = Date.now();
  const result = await check(pgsqlPrimaryCheck({ ...settings, timeoutMs: BOUND_MS }), server.port);
  t.like(result, { ok: false, reason: "no answer within 300ms" });
  t.true(Date.now() - started < BOUND_MS + 500);
  const [accepted] = server.accepted;
  if (accepted === undefined) return t.fail("no connection");
  await within(closed(accepted), 1000, "close");
});

test("pgsqlPrimaryCheck fails on a malformed answer that makes the driver's parser throw", async (t) => {
  // An authentication request of an unknown kind (99): the parser throws in a 'data' listener.
  const server = await answering((_, socket) =>
    socket.write(Buffer.from("520000000800000063", "hex")),
  );
  t.teardown(() => server.close());
  const result = await check(pgsqlPrimaryCheck({ ...settings, timeoutMs: ANSWER_MS }), server.port);
  t.like(result, { ok: false, reason: "Unknown authenticationOk message type 99" });
  const [accepted] = server.accepted;
  if (accepted === undefined) return t.fail("no connection");
  await within(closed(accepted), 1000, "close");
});

test("pgsqlPrimaryCheck stops reading a flood of garbage", async (t) => {
  // A message that claims 2 GB, then bytes as fast as the socket takes them.
  const server = await answering((_, socket) => {
    const chunk = Buffer.alloc(16 * 1024, 0x41);
    socket.write(Buffer.from("527fffffff", "hex"));
    const pump = (): void => {
      while (!socket.destroyed && socket.write(chunk));
      if (!socket.destroyed) socket.once("drain", pump);
    };
    socket.on("error", () => undefined);
    pump();
  });
  t.teardown(() => server.close());
  const result = await check(pgsqlPrimaryCheck({ ...settings, timeoutMs: 2000 }), server.port);
  t.like(result, { ok: false, reason: "no valid answer in the first 65536 bytes" });
});

test("pgsqlPrimaryCheck closes the connection when unsubscribed", async (t) => {
  const server = await silent();
  t.teardown(() => server.close());
  const connected = once(server.server, "connection") as Promise<[Socket]>;
  const subscription = from(pgsqlPrimaryCheck(settings)(backendAt(server.port))).subscribe(() =>
    t.fail("no verdict after unsubscribing"),
  );
  const [accepted] = await within(connected, 2000, "connection");
  subscription.unsubscribe();
  await within(closed(accepted), 1000, "close");
  t.pass();
});

test("the pg driver is loaded by the first pgsql-primary check, not before", async (t) => {
  const module = new URL("../../../src/adapters/checks/pgsql.js", import.meta.url).href;
  const port = await refusedPort();
  // pg is CommonJS: once loaded, its files are in the require cache.
  const script =
    `import { createRequire } from "node:module";` +
    `const cache = createRequire(process.cwd() + "/").cache;` +
    `const loaded = () => Object.keys(cache).some((f) => f.includes("/node_modules/pg/"));` +
    `const { firstValueFrom, from } = await import("rxjs");` +
    `const m = await import(${JSON.stringify(module)});` +
    `const b = { index: 0, label: "x", address: { host: "127.0.0.1", port: ${port} } };` +
    `await firstValueFrom(from(m.pgsqlCheck({ timeoutMs: 500 })(b)));` +
    `const before = loaded();` +
    `await firstValueFrom(from(m.pgsqlPrimaryCheck({ timeoutMs: 500 })(b)));` +
    `console.log(JSON.stringify([before, loaded()]));`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    cwd: new URL("../../../..", import.meta.url),
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await within(once(child, "exit"), 10_000, "node")) as [number];
  t.is(code, 0);
  t.deepEqual(JSON.parse(out), [false, true]);
});

// --- against a real primary and its streaming replica -----------------------------------------

let cluster: PostgresCluster | undefined;
const running = (): PostgresCluster => {
  if (cluster === undefined) throw new Error("the PostgreSQL servers did not start");
  return cluster;
};

test.before(async () => {
  cluster = await startPostgresCluster();
});

test.after.always(async () => {
  await cluster?.stop();
});

test.serial("PostgreSQL servers start: a primary and a streaming replica", (t) => {
  t.log(`start-up (initdb, primary, base backup, replica): ${running().startupMs} ms`);
  t.pass();
});

test.serial("pgsqlCheck passes on a live primary and on a live replica", async (t) => {
  const { primary, replica } = running();
  for (const server of [primary, replica]) {
    const result = await check(pgsqlCheck({ timeoutMs: 2000 }), server.port);
    t.true(result.ok, JSON.stringify(result));
  }
});

test.serial(
  "pgsqlPrimaryCheck passes on the primary as primary (database postgres by default)",
  async (t) => {
    const result = await check(pgsqlPrimaryCheck(settings), running().primary.port);
    t.like(result, { ok: true, role: "primary" });
    t.is(typeof result.latencyMs, "number");
    t.log(`a pgsql-primary check took ${result.latencyMs} ms`);
  },
);

test.serial(
  "pgsqlPrimaryCheck waits for the answer under a bound longer than a timer holds",
  async (t) => {
    const thirtyDays = 30 * 24 * 3600 * 1000;
    const result = await check(
      pgsqlPrimaryCheck({ ...settings, timeoutMs: thirtyDays }),
      running().primary.port,
    );
    t.like(result, { ok: true, role: "primary" });
  },
);

test.serial("pgsqlPrimaryCheck fails on the replica: in recovery", async (t) => {
  const result = await check(pgsqlPrimaryCheck(settings), running().replica.port);
  t.like(result, { ok: false, reason: "in recovery (replica)" });
});

test.serial("pgsqlPrimaryCheck fails with the server's message on a wrong password", async (t) => {
  const result = await check(
    pgsqlPrimaryCheck({ ...settings, password: "wrong" }),
    running().primary.port,
  );
  t.like(result, { ok: false, reason: `password authentication failed for user "${CHECK_USER}"` });
});

test.serial("pgsqlPrimaryCheck fails on a database it may not connect to", async (t) => {
  const { primary } = running();
  await primary.sql("CREATE DATABASE private");
  await primary.sql("REVOKE CONNECT ON DATABASE private FROM PUBLIC");
  const denied = await check(pgsqlPrimaryCheck({ ...settings, database: "private" }), primary.port);
  t.like(denied, { ok: false });
  t.regex(denied.ok ? "" : denied.reason, /permission denied for database "?private"?/);
  const missing = await check(pgsqlPrimaryCheck({ ...settings, database: "nope" }), primary.port);
  t.like(missing, { ok: false, reason: 'database "nope" does not exist' });
});

test.serial("pgsqlPrimaryCheck leaves no session behind", async (t) => {
  const { primary, replica } = running();
  for (let i = 0; i < 5; i += 1) {
    await check(pgsqlPrimaryCheck(settings), primary.port);
    await check(pgsqlPrimaryCheck(settings), replica.port);
  }
  // A backend process ends just after the client's Terminate: no event to await, so poll briefly.
  const sessions = async (server: PostgresServer): Promise<number> =>
    Number(
      (
        await server.sql<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'tcp-fallback check'",
        )
      )[0]?.n,
    );
  const deadline = Date.now() + 3000;
  let left = Infinity;
  while (Date.now() < deadline) {
    left = (await sessions(primary)) + (await sessions(replica));
    if (left === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.is(left, 0);
});

/** The port of the server a client lands on through the proxy. */
const serverPortThrough = async (proxyPort: number): Promise<number> => {
  const client = new pg.Client({
    host: "127.0.0.1",
    port: proxyPort,
    user: CHECK_USER,
    password: CHECK_PASSWORD,
    database: "postgres",
    connectionTimeoutMillis: 2000,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ port: number }>("SELECT inet_server_port() AS port");
    return Number(rows[0]?.port);
  } finally {
    await client.end().catch(() => undefined);
  }
};

test.serial(
  "through the proxy: clients land on the primary, then on the promoted replica",
  async (t) => {
    const { primary, replica } = running();
    const { proxy, port, events } = await startProxy({
      backends: [primary.address, replica.address],
      probe: pgsqlPrimaryCheck({ ...settings, timeoutMs: 1000 }),
      checkInterval: "100ms",
      connectTimeout: "1s",
    });
    t.teardown(() => proxy.close());
    const replicaChecks = (): string[] =>
      events.flatMap((e) => (e.type === "probe-failed" && e.backend.index === 1 ? [e.reason] : []));
    // Both backends count as up until their first check; clients come after the replica's.
    await within(
      firstValueFrom(proxy.health$.pipe(filter((h) => h.backends[1]?.up === false))),
      5000,
      "the replica's first check",
    );
    t.deepEqual(replicaChecks().slice(0, 1), ["in recovery (replica)"]);

    for (let i = 0; i < 3; i += 1) t.is(await serverPortThrough(port), primary.port);

    await primary.stop();
    // Nothing takes writes: clients are turned away, none reaches the replica.
    await t.throwsAsync(serverPortThrough(port));
    await within(
      firstValueFrom(proxy.health$.pipe(filter((h) => h.backends[0]?.up === false))),
      5000,
      "the stopped primary marked down",
    );
    await t.throwsAsync(serverPortThrough(port));
    t.is(
      proxy.snapshot().backends[1]?.requests,
      0,
      "the replica got no client before its promotion",
    );
    t.true(replicaChecks().length >= 1);
    t.true(replicaChecks().every((reason) => reason === "in recovery (replica)"));

    const switched = firstValueFrom(proxy.route$.pipe(filter((route) => route[0]?.index === 1)));
    const promoting = Date.now();
    const [promoted] = await replica.sql<{ done: boolean }>("SELECT pg_promote() AS done");
    const promotedAt = Date.now();
    t.is(promoted?.done, true);
    await within(switched, 5000, "the route to the promoted replica");
    const routedMs = Date.now() - promotedAt;
    t.is(await serverPortThrough(port), replica.port);
    const landedMs = Date.now() - promotedAt;
    t.log(`pg_promote() took ${promotedAt - promoting} ms (it waits for the promotion)`);
    t.log(`pg_promote() returned → route to the new primary: ${routedMs} ms`);
    t.log(`pg_promote() returned → first client through the proxy on it: ${landedMs} ms`);
    t.like(await check(pgsqlPrimaryCheck(settings), replica.port), { ok: true, role: "primary" });
    t.is(proxy.snapshot().backends[1]?.requests, 1);

    // Demotion: the old primary comes back as a standby of the new one; its checks keep failing.
    const demoted = await running().demote(primary, replica);
    const streaming = await demoted.logLine(STREAMING, 5000).then(
      () => true,
      () => false,
    );
    t.log(`the demoted primary ${streaming ? "streams from" : "does NOT stream from"} the new one`);
    t.like(await check(pgsqlPrimaryCheck(settings), demoted.port), {
      ok: false,
      reason: "in recovery (replica)",
    });
    const seen = events.length;
    await within(
      firstValueFrom(
        proxy.events$.pipe(
          filter(
            (e) =>
              e.type === "probe-failed" &&
              e.backend.index === 0 &&
              e.reason === "in recovery (replica)",
          ),
        ),
      ),
      5000,
      "the proxy's check of the demoted primary",
    );
    t.true(events.length > seen);
    t.is(await serverPortThrough(port), replica.port);
  },
);
