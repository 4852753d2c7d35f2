import test from "ava";
import { once } from "node:events";
import type { Socket } from "node:net";
import { makeBackends } from "../../src/domain/backend.js";
import type { HealthEvent } from "../../src/domain/health.js";
import { silentLogger } from "../../src/domain/logger.js";
import { startRelayServer } from "../../src/adapters/relay-server.js";
import { connectTo, startBackend, startHangingBackend } from "../helpers/net.js";

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
