import test, { type ExecutionContext } from "ava";
import { once } from "node:events";
import type { Socket } from "node:net";
import { makeBackends } from "../../src/domain/backend.js";
import type { HealthEvent } from "../../src/domain/health.js";
import { silentLogger } from "../../src/domain/logger.js";
import { withShare } from "../../src/domain/route.js";
import { startRelayServer } from "../../src/adapters/relay-server.js";
import {
  type TestBackend,
  connectTo,
  refusedPort,
  roundTrip,
  startBackend,
  startHangingBackend,
} from "../helpers/net.js";

/** Resolves once `socket` is closed; a reset is an expected way to end here. */
const closed = (socket: Socket): Promise<unknown> => {
  socket.on("error", () => undefined);
  return socket.closed
    ? Promise.resolve()
    : new Promise((resolve) => socket.once("close", resolve));
};

/** Resolves once `socket` has got `text` back. */
const echoed = async (socket: Socket, text: string): Promise<void> => {
  let got = "";
  socket.write(text);
  while (!got.includes(text)) {
    const [chunk] = (await once(socket, "data")) as [Buffer];
    got += chunk.toString();
  }
};

test("closeSessions closes both sockets of every relayed connection to that backend, and only those", async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  const hanging = await startHangingBackend();
  const [toA, toB, toHanging] = makeBackends([
    { host: "127.0.0.1", port: a.port },
    { host: "127.0.0.1", port: b.port },
    { host: "127.0.0.1", port: hanging.port },
  ]);
  if (toA === undefined || toB === undefined || toHanging === undefined) return t.fail();
  // Clients accepted so far (they come tallied in traffic events), and who waits for a count.
  let accepted = 0;
  let waiting: { count: number; resolve: () => void } | null = null;
  const emit = (event: HealthEvent): void => {
    if (event.type === "traffic") accepted += event.accepted;
    if (waiting !== null && accepted >= waiting.count) waiting.resolve();
  };
  const acceptedAll = (count: number): Promise<void> =>
    new Promise((resolve) => {
      waiting = { count, resolve };
      emit({ type: "traffic", accepted: 0, backends: [], at: 0 });
    });
  const server = startRelayServer({
    listen: { host: "127.0.0.1", port: 0 },
    connectTimeoutMs: 30_000,
    emit,
    now: Date.now,
    logger: silentLogger,
  });
  t.teardown(async () => {
    await server.drain(0);
    await a.close();
    await b.close();
    await hanging.close();
  });
  const { port } = await server.listening;

  server.setRoute([toA]);
  const onA = [await connectTo(port), await connectTo(port)];
  for (const client of onA) await echoed(client, "a");
  server.setRoute([toB]);
  const onB = await connectTo(port);
  await echoed(onB, "b");
  // A client still dialing (the backend never answers) is no relayed connection yet.
  server.setRoute([toHanging]);
  const dialing = await connectTo(port);
  dialing.on("error", () => undefined);
  await acceptedAll(4);

  t.is(server.closeSessions(toHanging.index), 0);
  t.is(server.closeSessions(toA.index), 2);
  await Promise.all([...onA.map(closed), ...a.accepted.map(closed)]);
  // The others go on.
  await echoed(onB, "still b");
  t.false(dialing.closed);
  t.false(b.accepted[0]?.closed);
  onB.destroy();
  dialing.destroy();
});

/** A relay server on loopback with no health loop behind it: the route stays as set. */
const startServer = async (t: ExecutionContext) => {
  const server = startRelayServer({
    listen: { host: "127.0.0.1", port: 0 },
    connectTimeoutMs: 2_000,
    emit: () => undefined,
    now: Date.now,
    logger: silentLogger,
  });
  t.teardown(() => server.drain(1_000));
  const { port } = await server.listening;
  return { server, port };
};

/** Sends clients one after another and names the backend that served each. */
const servedBy = async (
  port: number,
  backends: Record<string, TestBackend>,
  clients: number,
): Promise<string> => {
  let names = "";
  for (let i = 0; i < clients; i++) {
    const before = Object.values(backends).map((b) => b.served());
    if ((await roundTrip(port, `c${i}`)).toString() !== `c${i}`) throw new Error("not echoed");
    const after = Object.values(backends).map((b) => b.served());
    names += Object.keys(backends)[after.findIndex((n, j) => n > (before[j] ?? 0))] ?? "?";
  }
  return names;
};

test("a route's share sends exactly that share of clients to its first backend, spread out", async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const { server, port } = await startServer(t);
  const [A, B] = makeBackends([
    { host: "127.0.0.1", port: a.port },
    { host: "127.0.0.1", port: b.port },
  ]);
  if (A === undefined || B === undefined) return t.fail();
  server.setRoute(withShare([A, B], 0.25));
  t.is(await servedBy(port, { A: a, B: b }, 8), "BABBBABB");
  server.setRoute([A, B]);
  t.is(await servedBy(port, { A: a, B: b }, 3), "AAA");
});

test("a client whose first dial fails tries the rest of its own order, and spends no more share", async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  const dead = await refusedPort();
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const { server, port } = await startServer(t);
  const [A, X, B] = makeBackends([
    { host: "127.0.0.1", port: a.port },
    { host: "127.0.0.1", port: dead },
    { host: "127.0.0.1", port: b.port },
  ]);
  if (A === undefined || X === undefined || B === undefined) return t.fail();
  // Half the clients go A, X, B; the other half X, B, A: X refuses them and they reach B.
  server.setRoute(withShare([A, X, B], 0.5));
  t.is(await servedBy(port, { A: a, B: b }, 6), "ABABAB");
});
