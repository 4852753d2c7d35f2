import test, { type ExecutionContext } from "ava";
import { execFile } from "node:child_process";
import { once } from "node:events";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { type RelayServerConfig, startRelayServer } from "../../src/adapters/relay-server.js";
import { type Backend, makeBackends } from "../../src/domain/backend.js";
import {
  type HealthEvent,
  type HealthState,
  initialHealth,
  reduceHealth,
} from "../../src/domain/health.js";
import { silentLogger } from "../../src/domain/logger.js";
import { startTrickleServer } from "../helpers/bad-peers.js";
import { type TestBackend, connectTo, startBackend } from "../helpers/net.js";

/** Every test is bounded: a limit that never acts fails the test instead of hanging it. */
const within = <T>(ms: number, what: string, promise: Promise<T>): Promise<T> =>
  Promise.race([
    promise,
    sleep(ms, undefined, { ref: false }).then(() => {
      throw new Error(`${what}: not within ${ms} ms`);
    }),
  ]);

/**
 * Resolves once the peer has closed `socket`: its FIN ('end': the sockets here are half-open
 * capable, so they stay open until they end their own side) or a reset ("reset").
 */
const ended = (socket: Socket): Promise<"closed" | "reset"> =>
  new Promise((resolve) => {
    socket.on("error", () => resolve("reset"));
    socket.resume();
    if (socket.readableEnded || socket.closed) resolve("closed");
    socket.once("end", () => resolve("closed"));
    socket.once("close", () => resolve("closed"));
  });

/** Writes `text` and resolves once it has all come back. */
const echoed = async (socket: Socket, text: string): Promise<void> => {
  let got = "";
  const onData = (chunk: Buffer): void => void (got += chunk.toString());
  socket.on("data", onData);
  socket.write(text);
  while (!got.includes(text)) await once(socket, "data");
  socket.removeListener("data", onData);
};

interface LimitsRun {
  readonly port: number;
  /** The health state the emitted events add up to (tallied per turn, as the control plane gets them). */
  health(): HealthState;
  readonly events: HealthEvent[];
}

/** A relay server with these limits on loopback, its events folded into a health state. */
const startLimited = async (
  t: ExecutionContext,
  backends: ReadonlyArray<Backend>,
  limits: Partial<RelayServerConfig>,
): Promise<LimitsRun> => {
  const events: HealthEvent[] = [];
  let state = initialHealth(backends);
  const server = startRelayServer({
    listen: { host: "127.0.0.1", port: 0 },
    connectTimeoutMs: 5_000,
    emit: (event) => {
      events.push(event);
      state = reduceHealth(state, event);
    },
    now: Date.now,
    logger: silentLogger,
    ...limits,
  });
  server.setRoute(backends);
  t.teardown(() => server.drain(0));
  const { port } = await server.listening;
  return { port, health: () => state, events };
};

const backendsAt = (...servers: TestBackend[]): ReadonlyArray<Backend> =>
  makeBackends(servers.map((s) => ({ host: "127.0.0.1", port: s.port })));

/** Waits a turn of the event loop so tallied events have been handed on. */
const tallied = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("-maxconn=2: a third client waits, unreset and unserved, until one of the first two closes", async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const run = await startLimited(t, backendsAt(backend), { maxconn: 2 });
  const first = await connectTo(run.port);
  const second = await connectTo(run.port);
  await echoed(first, "one");
  await echoed(second, "two");
  // Its handshake completes (the kernel's backlog, or a slot held for it) ...
  const third = await within(2_000, "third connect", connectTo(run.port));
  const thirdEnd = ended(third);
  let got = "";
  third.on("data", (chunk: Buffer) => (got += chunk.toString()));
  third.write("three");
  // ... but nothing is relayed: its bytes reach no backend.
  await sleep(300);
  t.is(got, "");
  t.is(backend.accepted.length, 2);
  first.destroy();
  await within(
    2_000,
    "third served",
    (async () => {
      while (!got.includes("three")) await once(third, "data");
    })(),
  );
  t.is(backend.accepted.length, 3);
  second.destroy();
  third.end();
  t.is(await within(2_000, "third closed", thirdEnd), "closed");
  await tallied();
  t.is(run.health().totals.limits?.acceptPauses, 1);
  t.is(run.health().totals.accepted, 3);
});

test("per-backend maxconn=1: a second client skips the full backend for the next one, counted", async (t) => {
  const primary = await startBackend();
  const fallback = await startBackend();
  t.teardown(async () => {
    await primary.close();
    await fallback.close();
  });
  const [a, b] = makeBackends(
    [
      { host: "127.0.0.1", port: primary.port },
      { host: "127.0.0.1", port: fallback.port },
    ],
    [],
    { backendMaxconn: 1 },
  );
  if (a === undefined || b === undefined) return t.fail();
  t.is(a.maxconn, 1);
  const run = await startLimited(t, [a, b], {});
  const first = await connectTo(run.port);
  await echoed(first, "one");
  const second = await connectTo(run.port);
  await echoed(second, "two");
  t.is(primary.accepted.length, 1);
  t.is(fallback.accepted.length, 1);
  await tallied();
  t.is(run.health().backends[0]?.backendFull, 1);
  t.is(run.health().backends[1]?.backendFull, undefined);
  t.is(run.health().totals.limits?.backendFull, 1);
  // Once the first has gone, the primary has room again.
  const firstEnd = ended(first);
  first.end();
  await firstEnd;
  while (!primary.accepted.every((s) => s.closed)) await sleep(10);
  await sleep(50);
  const third = await connectTo(run.port);
  await echoed(third, "three");
  t.is(primary.accepted.length, 2);
  second.destroy();
  third.destroy();
});

test("-idle-timeout: a connection idle both ways is closed after about the timeout; one-way traffic keeps one open", async (t) => {
  const idleMs = 400;
  // Steady traffic one way only: a byte every 150 ms, well inside the timeout.
  const sink = await startBackend(() => undefined);
  const trickle = await startTrickleServer("hello", ".", 150);
  t.teardown(async () => {
    await sink.close();
    await trickle.close();
  });
  const [toSink, toTrickle] = backendsAt(sink, trickle);
  if (toSink === undefined || toTrickle === undefined) return t.fail();
  const idleRun = await startLimited(t, [toSink], { idleTimeoutMs: idleMs });
  const trickleRun = await startLimited(t, [toTrickle], { idleTimeoutMs: idleMs });

  const idle = await connectTo(idleRun.port);
  idle.write("x");
  const idleSince = Date.now();
  const idleEnd = ended(idle);
  // Client to backend only: a byte every 150 ms to a backend that never answers.
  const talker = await connectTo(idleRun.port);
  const talking = setInterval(() => talker.write("."), 150);
  t.teardown(() => clearInterval(talking));
  // Backend to client only: the client never writes.
  const listener = await connectTo(trickleRun.port);
  listener.resume();

  t.is(await within(3_000, "idle close", idleEnd), "closed");
  const idleFor = Date.now() - idleSince;
  t.true(idleFor >= idleMs, `closed after ${idleFor} ms`);
  t.true(idleFor < idleMs * 1.25 + 600, `closed after ${idleFor} ms`);
  // Three timeouts later the busy ones are still open.
  await sleep(3 * idleMs);
  t.false(talker.destroyed || talker.readableEnded);
  t.false(listener.destroyed || listener.readableEnded);
  clearInterval(talking);
  talker.destroy();
  listener.destroy();
  await tallied();
  t.is(idleRun.health().totals.limits?.idleTimeouts, 1);
  t.is(trickleRun.health().totals.limits, undefined);
});

test("-fin-timeout: a client half-closes, the backend never closes: both sides are closed at the deadline", async (t) => {
  const finMs = 400;
  // Half-open capable and silent: it never ends its side.
  const backend = await startBackend(() => undefined);
  t.teardown(() => backend.close());
  const run = await startLimited(t, backendsAt(backend), { finTimeoutMs: finMs });
  const client = await connectTo(run.port);
  client.write("x");
  while (backend.accepted.length === 0) await once(backend.server, "connection");
  const backendSide = backend.accepted[0] as Socket;
  const backendEnd = ended(backendSide);
  const clientEnd = ended(client);
  client.end();
  const finAt = Date.now();
  await within(3_000, "client closed", clientEnd);
  await within(3_000, "backend side closed", backendEnd);
  const after = Date.now() - finAt;
  t.true(after >= finMs - 20, `closed after ${after} ms`);
  t.true(after < finMs * 1.25 + 300, `closed after ${after} ms`);
  await tallied();
  t.is(run.health().totals.limits?.finTimeouts, 1);
  t.is(run.health().totals.limits?.idleTimeouts, 0);
});

/** The `ss` lines of established TCP sockets matching a filter (e.g. `sport = :7000`). */
const sockets = async (filter: string): Promise<string[]> => {
  const { stdout } = await promisify(execFile)("ss", ["-tnoH", "state", "established", filter]);
  return stdout.split("\n").filter((line) => line.trim() !== "");
};

test("-keepalive: both the client's and the backend's socket carry a keepalive timer", async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const withKeepalive = await startLimited(t, backendsAt(backend), { keepaliveMs: 60_000 });
  const without = await startLimited(t, backendsAt(backend), {});
  const kept = await connectTo(withKeepalive.port);
  await echoed(kept, "k");
  const plain = await connectTo(without.port);
  await echoed(plain, "p");
  const keptClient = await sockets(`( sport = :${withKeepalive.port} )`);
  const plainClient = await sockets(`( sport = :${without.port} )`);
  // The proxy's sockets to the backend: the one with the keepalive client's local port pair is
  // found by the backend's accepted sockets' remote ports.
  const [keptBackend, plainBackend] = backend.accepted.map((s) => s.remotePort);
  const toBackend = async (port: number | undefined): Promise<string[]> =>
    sockets(`( sport = :${port ?? 0} and dport = :${backend.port} )`);
  t.is(keptClient.length, 1);
  t.regex(keptClient[0] ?? "", /timer:\(keepalive,/);
  t.is(plainClient.length, 1);
  t.notRegex(plainClient[0] ?? "", /keepalive/);
  const keptDial = await toBackend(keptBackend);
  t.is(keptDial.length, 1);
  t.regex(keptDial[0] ?? "", /timer:\(keepalive,/);
  const plainDial = await toBackend(plainBackend);
  t.is(plainDial.length, 1);
  t.notRegex(plainDial[0] ?? "", /keepalive/);
  kept.destroy();
  plain.destroy();
});
