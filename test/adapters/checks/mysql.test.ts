import test from "ava";
import { execFile } from "node:child_process";
import { once } from "node:events";
import type { Socket } from "node:net";
import { promisify } from "node:util";
import { filter, firstValueFrom, from, lastValueFrom } from "rxjs";
import { createConnection } from "mysql2/promise";
import {
  loginAttempt,
  mysqlCheck,
  mysqlPrimaryCheck,
  plainCheckUser,
} from "../../../src/adapters/checks/mysql.js";
import { exchange } from "../../../src/adapters/checks/exchange.js";
import { type Backend, makeBackends } from "../../../src/domain/backend.js";
import type { CheckSettings } from "../../../src/domain/check.js";
import type { Probe, ProbeResult } from "../../../src/domain/probe.js";
import { createFallbackProxy, silentLogger } from "../../../src/index.js";
import {
  CHECK_PASSWORD,
  CHECK_USER,
  type MariaDbServer,
  startMariaDb,
} from "../../helpers/mariadb-server.js";
import { moduleLog } from "../../helpers/cli.js";
import { refusedPort, startBackend } from "../../helpers/net.js";

const run = promisify(execFile);

const TIMEOUT_MS = 1000;
const checkSettings: CheckSettings = {
  timeoutMs: TIMEOUT_MS,
  user: CHECK_USER,
  password: CHECK_PASSWORD,
};

const backendAt = (port: number): Backend =>
  makeBackends([{ host: "127.0.0.1", port }])[0] as Backend;

const probeOnce = (probe: Probe, port: number): Promise<ProbeResult> =>
  lastValueFrom(from(probe(backendAt(port))));

/** The reason of a failed result (or "ok"), for short assertions. */
const verdict = (result: ProbeResult): string => (result.ok ? "ok" : result.reason);

/** A packet: 3-byte little-endian length, sequence id, payload. */
const packet = (sequence: number, payload: Buffer): Buffer => {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequence;
  return Buffer.concat([header, payload]);
};

const errorPacket = (sequence: number, code: number, message: string, sqlState = ""): Buffer =>
  packet(
    sequence,
    Buffer.concat([
      Buffer.from([0xff, code & 0xff, code >> 8]),
      Buffer.from(sqlState === "" ? "" : `#${sqlState}`, "latin1"),
      Buffer.from(message, "utf8"),
    ]),
  );

const fakeGreeting = packet(
  0,
  Buffer.concat([Buffer.from("\x0a5.5.5-10.11.18-MariaDB\0", "latin1"), Buffer.alloc(40)]),
);

/** Resolves once the peer has closed `socket` (FIN or reset): the check let go of it. */
const closed = async (socket: Socket): Promise<void> => {
  if (socket.readableEnded || socket.destroyed) return;
  socket.resume();
  await Promise.race([once(socket, "end"), once(socket, "close")]);
};

/** Threads connected besides root's own: the check's sessions that are still open. */
const otherSessions = async (server: MariaDbServer): Promise<number> => {
  const rows = (await server.sql(
    "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER <> 'root' AND USER <> 'system user'",
  )) as Array<{ n: number }>;
  return Number(rows[0]?.n);
};

/** Polls (no event exists for a server-side close) until `predicate` holds, bounded. */
const eventually = async (predicate: () => Promise<boolean>, boundMs = 5000): Promise<boolean> => {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return predicate();
};

const statusOf = async (server: MariaDbServer, name: string): Promise<number> => {
  const rows = (await server.sql(`SHOW GLOBAL STATUS LIKE '${name}'`)) as Array<{ Value: string }>;
  return Number(rows[0]?.Value);
};

let server: MariaDbServer;

test.before(async (t) => {
  server = await startMariaDb();
  t.log(`MariaDB install + start-up: ${server.startMs} ms`);
});

test.after.always(async () => {
  await server?.stop();
});

// ----- mysqlCheck (no password)

test.serial(
  "mysqlCheck passes on a live MariaDB and leaves no aborted handshake behind",
  async (t) => {
    const before = await statusOf(server, "Aborted_connects_preauth");
    for (let i = 0; i < 5; i++) {
      const result = await probeOnce(mysqlCheck({ timeoutMs: TIMEOUT_MS }), server.port);
      t.is(verdict(result), "ok");
      t.is(typeof result.latencyMs, "number");
    }
    // A check that hangs up after the greeting counts as a handshake error each time (after
    // max_connect_errors of them from one host, the server blocks the proxy's host).
    t.is(await statusOf(server, "Aborted_connects_preauth"), before);
    const greetingOnly = (answer: Buffer): ProbeResult | null =>
      answer.length > 4 ? { ok: true } : null;
    await lastValueFrom(exchange(backendAt(server.port).address, TIMEOUT_MS, null, greetingOnly));
    t.true(
      await eventually(
        async () => (await statusOf(server, "Aborted_connects_preauth")) === before + 1,
      ),
      "the counter sees a greeting-only check",
    );
  },
);

test.serial(
  "mysqlCheck as an account without password leaves nothing in the server log",
  async (t) => {
    await server.sql("CREATE USER 'tcp-fallback'@'%'");
    t.teardown(() => server.sql("DROP USER 'tcp-fallback'@'%'"));
    const logged = server.log().length;
    for (let i = 0; i < 3; i++)
      t.is(verdict(await probeOnce(mysqlCheck({ timeoutMs: TIMEOUT_MS }), server.port)), "ok");
    t.true(await eventually(async () => (await otherSessions(server)) === 0));
    t.is(server.log().slice(logged), "");
  },
);

test("mysqlCheck logs in as the configured user, without password, and quits", async (t) => {
  let received = Buffer.alloc(0);
  const backend = await startBackend((socket) => {
    socket.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.write(fakeGreeting);
    socket.write(packet(2, Buffer.from([0, 0, 0, 2, 0, 0, 0])));
  });
  t.teardown(() => backend.close());
  const result = await probeOnce(
    mysqlCheck({ timeoutMs: TIMEOUT_MS, user: "monitor" }),
    backend.port,
  );
  t.is(verdict(result), "ok");
  await closed(backend.accepted[0] as Socket);
  const login = received.subarray(4, 4 + received.readUIntLE(0, 3));
  t.is(received[3], 1, "the login is the answer to the greeting");
  t.true(login.subarray(32).equals(Buffer.from("monitor\0\0", "latin1")), "user, empty auth");
  t.true(received.subarray(4 + login.length).equals(Buffer.from([1, 0, 0, 0, 1])), "then QUIT");
});

test("mysqlCheck never tries an account that has a password (failed logins may lock it)", (t) => {
  t.is(plainCheckUser({ timeoutMs: 1, user: "monitor" }), "monitor");
  t.is(plainCheckUser({ timeoutMs: 1 }), "tcp-fallback");
  t.is(plainCheckUser(checkSettings), "tcp-fallback");
  t.false(loginAttempt(plainCheckUser(checkSettings)).includes(Buffer.from(CHECK_USER)));
});

test.serial("mysqlCheck fails with 'Too many connections' on a full server", async (t) => {
  // The server counts connections after the login: the check needs an account that logs in.
  await server.sql("CREATE USER 'tcp-fallback'@'%'");
  t.teardown(() => server.sql("DROP USER 'tcp-fallback'@'%'"));
  await server.sql("SET GLOBAL max_connections = 10");
  t.teardown(() => server.sql("SET GLOBAL max_connections = 151"));
  const check = mysqlCheck({ timeoutMs: TIMEOUT_MS });
  t.is(verdict(await probeOnce(check, server.port)), "ok");
  // root's own session and nine more fill it.
  const held = [];
  for (let i = 0; i < 9; i++)
    held.push(
      await createConnection({
        host: "127.0.0.1",
        port: server.port,
        user: CHECK_USER,
        password: CHECK_PASSWORD,
      }),
    );
  try {
    t.is(verdict(await probeOnce(check, server.port)), "mysql: Too many connections");
  } finally {
    for (const connection of held) connection.destroy();
  }
  t.true(await eventually(async () => verdict(await probeOnce(check, server.port)) === "ok"));
});

test("mysqlCheck fails on garbage at once", async (t) => {
  const backend = await startBackend((socket) => socket.write("HTTP/1.1 400 Bad Request\r\n\r\n"));
  t.teardown(() => backend.close());
  const result = await probeOnce(mysqlCheck(checkSettings), backend.port);
  t.is(verdict(result), "not a MySQL greeting");
  t.true((result.latencyMs ?? TIMEOUT_MS) < TIMEOUT_MS / 2);
  await closed(backend.accepted[0] as Socket);
});

test("mysqlCheck fails at the bound on a server that never answers, and closes its socket", async (t) => {
  const backend = await startBackend(() => undefined);
  t.teardown(() => backend.close());
  const result = await probeOnce(mysqlCheck({ timeoutMs: 300 }), backend.port);
  t.is(verdict(result), "no answer within 300ms");
  t.true((result.latencyMs ?? 0) >= 290);
  await closed(backend.accepted[0] as Socket);
});

test("mysqlCheck fails on a server that closes at once", async (t) => {
  const backend = await startBackend((socket) => socket.end());
  t.teardown(() => backend.close());
  t.is(
    verdict(await probeOnce(mysqlCheck(checkSettings), backend.port)),
    "closed the connection without an answer",
  );
});

test("mysqlCheck fails with the message of an error packet instead of a greeting", async (t) => {
  const message =
    "Host '127.0.0.1' is blocked because of many connection errors; unblock with 'mariadb-admin flush-hosts'";
  const backend = await startBackend((socket) => socket.end(errorPacket(0, 1129, message)));
  t.teardown(() => backend.close());
  t.is(verdict(await probeOnce(mysqlCheck(checkSettings), backend.port)), `mysql: ${message}`);
});

test("mysqlCheck fails when the server refuses the login for too many connections", async (t) => {
  const backend = await startBackend((socket) => {
    socket.write(fakeGreeting);
    socket.end(errorPacket(2, 1040, "Too many connections", "08004"));
  });
  t.teardown(() => backend.close());
  t.is(
    verdict(await probeOnce(mysqlCheck(checkSettings), backend.port)),
    "mysql: Too many connections",
  );
});

test("mysqlCheck fails on a server that greets and hangs up", async (t) => {
  const backend = await startBackend((socket) => socket.end(fakeGreeting));
  t.teardown(() => backend.close());
  t.is(
    verdict(await probeOnce(mysqlCheck(checkSettings), backend.port)),
    "closed the connection after its greeting",
  );
});

test("mysqlCheck fails on a refused connect", async (t) => {
  const result = await probeOnce(mysqlCheck(checkSettings), await refusedPort());
  t.regex(verdict(result), /ECONNREFUSED/);
});

// ----- mysqlPrimaryCheck (login, SELECT @@global.read_only)

test.serial(
  "mysqlPrimaryCheck: read_only=0 is a primary, 1 fails, 0 again passes; sessions closed",
  async (t) => {
    const check = mysqlPrimaryCheck(checkSettings);
    const first = await probeOnce(check, server.port);
    t.deepEqual({ ...first, latencyMs: 0 }, { ok: true, role: "primary", latencyMs: 0 });
    t.is(typeof first.latencyMs, "number");
    await server.sql("SET GLOBAL read_only = 1");
    t.deepEqual(
      { ...(await probeOnce(check, server.port)), latencyMs: 0 },
      {
        ok: false,
        reason: "read_only=1",
        latencyMs: 0,
      },
    );
    await server.sql("SET GLOBAL read_only = 0");
    t.is(verdict(await probeOnce(check, server.port)), "ok");
    t.true(
      await eventually(async () => (await otherSessions(server)) === 0),
      "every session closed",
    );
  },
);

test.serial("mysqlPrimaryCheck logs into a database when one is given", async (t) => {
  const ok = await probeOnce(
    mysqlPrimaryCheck({ ...checkSettings, database: "information_schema" }),
    server.port,
  );
  t.is(verdict(ok), "ok");
  const denied = await probeOnce(
    mysqlPrimaryCheck({ ...checkSettings, database: "mysql" }),
    server.port,
  );
  t.regex(verdict(denied), /Access denied for user 'checker'@'%' to database 'mysql'/);
});

test.serial("mysqlPrimaryCheck fails with the driver's message on a wrong password", async (t) => {
  const result = await probeOnce(
    mysqlPrimaryCheck({ ...checkSettings, password: "wrong" }),
    server.port,
  );
  t.regex(
    verdict(result),
    /^Access denied for user 'checker'@'127\.0\.0\.1' \(using password: YES\)$/,
  );
  t.true(await eventually(async () => (await otherSessions(server)) === 0), "session closed");
});

test("mysqlPrimaryCheck fails at its bound on a server that never answers, and closes the socket", async (t) => {
  const backend = await startBackend(() => undefined);
  t.teardown(() => backend.close());
  const started = Date.now();
  const result = await probeOnce(
    mysqlPrimaryCheck({ ...checkSettings, timeoutMs: 400 }),
    backend.port,
  );
  const took = Date.now() - started;
  t.false(result.ok);
  t.true(took >= 390 && took < 2000, `took ${took} ms`);
  // The server side sees the close, not just the check giving up (under heavy load the driver
  // has been seen to open a second connection: every one must be closed).
  t.true(backend.accepted.length >= 1);
  for (const socket of backend.accepted) await closed(socket);
});

/** A v10 greeting a driver accepts: native password auth, the 4.1 protocol. */
const driverGreeting = (): Buffer => {
  const capabilities = 0x1 | 0x2 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x20000 | 0x80000;
  const fixed = Buffer.alloc(4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10);
  fixed.writeUInt32LE(7, 0); // connection id
  fixed.write("abcdefgh", 4, "latin1"); // scramble, first part
  fixed.writeUInt16LE(capabilities & 0xffff, 13);
  fixed[15] = 33; // utf8_general_ci
  fixed.writeUInt16LE(2, 16); // autocommit
  fixed.writeUInt16LE(capabilities >>> 16, 18);
  fixed[20] = 21; // scramble length
  return packet(
    0,
    Buffer.concat([
      Buffer.from("\x0a5.5.5-10.11.18-MariaDB\0", "latin1"),
      fixed,
      Buffer.from("ijklmnopqrst\0mysql_native_password\0", "latin1"),
    ]),
  );
};

test("mysqlPrimaryCheck fails at its own bound when a login succeeds and the query hangs", async (t) => {
  // The driver's connect timeout ends with the login: only the check's bound is left.
  const backend = await startBackend((socket) => {
    socket.write(driverGreeting());
    socket.once("data", () => socket.write(packet(2, Buffer.from([0, 0, 0, 2, 0, 0, 0]))));
  });
  t.teardown(() => backend.close());
  const result = await probeOnce(
    mysqlPrimaryCheck({ ...checkSettings, timeoutMs: 400 }),
    backend.port,
  );
  t.is(verdict(result), "no answer within 400ms");
  const took = result.latencyMs ?? 0;
  t.true(took >= 390 && took < 2000, `took ${took} ms`);
  await closed(backend.accepted[0] as Socket);
});

test("mysqlPrimaryCheck closes at once when its subscriber goes away", async (t) => {
  const backend = await startBackend(() => undefined);
  t.teardown(() => backend.close());
  const accepted = once(backend.server, "connection") as Promise<[Socket]>;
  const subscription = from(
    mysqlPrimaryCheck({ ...checkSettings, timeoutMs: 30_000 })(backendAt(backend.port)),
  ).subscribe();
  const [socket] = await accepted;
  subscription.unsubscribe();
  await closed(socket);
  t.pass();
});

test("mysqlPrimaryCheck fails on garbage, a close, a refused connect; it never rejects", async (t) => {
  const garbage = await startBackend((socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
  const closing = await startBackend((socket) => socket.end());
  t.teardown(() => Promise.all([garbage.close(), closing.close()]));
  const check = mysqlPrimaryCheck(checkSettings);
  for (const port of [garbage.port, closing.port, await refusedPort()]) {
    const result = await probeOnce(check, port);
    t.false(result.ok, `port ${port}`);
    t.true(verdict(result).length > 0);
  }
  t.regex(verdict(await probeOnce(check, await refusedPort())), /ECONNREFUSED/);
  t.is(verdict(await probeOnce(check, closing.port)), "closed the connection");
});

test("mysql2 is loaded by the first primary check, not before", async (t) => {
  const log = await moduleLog();
  t.teardown(() => log.remove());
  const checks = new URL("../../../src/adapters/checks/mysql.js", import.meta.url).href;
  const port = await refusedPort();
  const script = `
    const { mysqlCheck, mysqlPrimaryCheck } = await import(${JSON.stringify(checks)});
    const { lastValueFrom } = await import("rxjs");
    const backend = { index: 0, label: "db", address: { host: "127.0.0.1", port: ${port} } };
    await lastValueFrom(mysqlCheck({ timeoutMs: 500 })(backend));
    await import("data:text/javascript,export default 'plain-check-done'");
    console.log("plain done");
    await lastValueFrom(mysqlPrimaryCheck({ timeoutMs: 500 })(backend));
  `;
  const { stdout } = await run(process.execPath, [
    ...log.nodeArgs,
    "--input-type=module",
    "-e",
    script,
  ]);
  t.is(stdout, "plain done\n");
  const urls = await log.urls();
  const mysql2 = urls.findIndex((url) => url.includes("/node_modules/mysql2/"));
  const plainDone = urls.findIndex((url) => url.includes("plain-check-done"));
  t.true(plainDone >= 0);
  t.true(mysql2 > plainDone, "the plain check ran without mysql2; the primary check loaded it");
});

// ----- end to end: a proxy follows the primary between two servers

test("a proxy with mysqlPrimaryCheck follows a promotion from A to B", async (t) => {
  const [a, b] = await Promise.all([startMariaDb(), startMariaDb()]);
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  await b.sql("SET GLOBAL read_only = 1");
  const proxy = createFallbackProxy({
    listen: "127.0.0.1:0",
    backends: [a.address, b.address],
    probe: mysqlPrimaryCheck(checkSettings),
    checkInterval: "100ms",
    connectTimeout: "1s",
    logger: silentLogger,
  });
  t.teardown(() => proxy.close());
  const { port } = await proxy.listening;
  /** The port of the server a fresh client through the proxy lands on. */
  const landsOn = async (): Promise<number> => {
    const client = await createConnection({
      host: "127.0.0.1",
      port,
      user: CHECK_USER,
      password: CHECK_PASSWORD,
      connectTimeout: 2000,
    });
    try {
      const [rows] = await client.query("SELECT @@port AS port");
      return Number((rows as Array<{ port: number }>)[0]?.port);
    } finally {
      client.destroy();
    }
  };
  // The proxy routes once A's first check has passed.
  t.true(await eventually(async () => (await landsOn().catch(() => 0)) === a.port), "lands on A");

  // Subscribed before the demotion: the event that says the check has seen it.
  const aDown = firstValueFrom(
    proxy.events$.pipe(
      filter((event) => event.type === "backend-down" && event.backend.index === 0),
    ),
  );
  await b.sql("SET GLOBAL read_only = 0");
  const promoted = Date.now();
  await a.sql("SET GLOBAL read_only = 1");
  let switchMs = -1;
  const deadline = promoted + 10_000;
  while (Date.now() < deadline) {
    if ((await landsOn().catch(() => 0)) === b.port) {
      switchMs = Date.now() - promoted;
      break;
    }
  }
  t.log(`promotion to the first client on B: ${switchMs} ms`);
  t.true(switchMs >= 0, "a client lands on B");
  const down = await aDown;
  t.like(down, { reason: "read_only=1" });
  // Once the check has seen A demoted, no new client reaches A.
  for (let i = 0; i < 10; i++) t.is(await landsOn(), b.port);
});
