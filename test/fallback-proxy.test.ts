import test from "ava";
import { once } from "node:events";
import { connect, createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { filter, firstValueFrom } from "rxjs";
import { refusedPort, roundTrip, startBackend, startHangingBackend } from "./helpers/net.js";
import { nextEvent, startProxy } from "./helpers/proxy.js";

test("relays to the primary while it is up", async (t) => {
  const primary = await startBackend();
  const fallback = await startBackend();
  const { proxy, port } = await startProxy({ backends: [primary.address, fallback.address] });
  t.teardown(async () => {
    await proxy.close();
    await primary.close();
    await fallback.close();
  });
  const reply = await roundTrip(port, "hello");
  t.is(reply.toString(), "hello");
  t.is(primary.served(), 1);
  t.is(fallback.served(), 0);
});

test("a refused primary sends the same client to the fallback, and the primary is marked down", async (t) => {
  const deadPort = await refusedPort();
  const fallback = await startBackend();
  const { proxy, port, events } = await startProxy({
    backends: [`127.0.0.1:${deadPort}`, fallback.address],
    probeDelay: "1h",
  });
  t.teardown(async () => {
    await proxy.close();
    await fallback.close();
  });
  const payload = randomBytes(64 * 1024);
  const reply = await roundTrip(port, payload);
  t.true(reply.equals(payload));
  t.true(
    events.some((e) => e.type === "backend-down" && e.backend.label === `127.0.0.1:${deadPort}`),
  );
});

test("failback: the primary takes new clients again once a probe finds it up", async (t) => {
  const deadPort = await refusedPort();
  const fallback = await startBackend();
  const { proxy, port } = await startProxy({
    backends: [`127.0.0.1:${deadPort}`, fallback.address],
    probeDelay: "50ms",
  });
  t.teardown(async () => {
    await proxy.close();
    await fallback.close();
  });
  await nextEvent(proxy.events$, "backend-down");
  const up = nextEvent(proxy.events$, "backend-up");
  const primary = await startBackend(undefined, deadPort);
  t.teardown(() => primary.close());
  const event = await up;
  t.is(event.backend.label, `127.0.0.1:${deadPort}`);
  t.is((await roundTrip(port, "back")).toString(), "back");
  t.is(primary.served(), 1);
});

test("a hanging connect times out into the fallback and does not stall later clients", async (t) => {
  const hanging = await startHangingBackend();
  const fallback = await startBackend();
  const { proxy, port, events } = await startProxy({
    backends: [hanging.address, fallback.address],
    connectTimeout: "300ms",
    probeDelay: "1h",
  });
  t.teardown(async () => {
    await proxy.close();
    await fallback.close();
    await hanging.close();
  });
  // The start-up probe hits the hanging backend too; wait for the first client's own verdict.
  const down = firstValueFrom(proxy.route$.pipe(filter((route) => route.length === 1)));
  const first = roundTrip(port, "first");
  await down;
  const later = await roundTrip(port, "later");
  t.is(later.toString(), "later");
  t.is((await first).toString(), "first");
  const wentDown = events.find((e) => e.type === "backend-down");
  t.is(wentDown?.type === "backend-down" ? wentDown.backend.label : undefined, hanging.address);
  t.regex(wentDown?.type === "backend-down" ? wentDown.reason : "", /timeout after 300ms/);
  t.is(fallback.served(), 2);
});

test("IPv6 loopback: listens on [::1] and relays to a [::1] backend", async (t) => {
  const backend = createServer((socket) => socket.pipe(socket));
  backend.listen({ host: "::1", port: 0 });
  await once(backend, "listening");
  const backendPort = (backend.address() as { port: number }).port;
  const { proxy } = await startProxy({ listen: "[::1]:0", backends: [`[::1]:${backendPort}`] });
  t.teardown(async () => {
    await proxy.close();
    backend.close();
  });
  const { address, port } = await proxy.listening;
  t.is(address, "::1");
  const socket = connect({ host: "::1", port });
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.end("six");
  await once(socket, "end");
  t.is(Buffer.concat(chunks).toString(), "six");
  t.is(proxy.snapshot().backends[0]?.label, `[::1]:${backendPort}`);
});
