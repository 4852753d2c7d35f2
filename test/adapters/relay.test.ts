import test from "ava";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import type { Socket } from "node:net";
import { filter, firstValueFrom } from "rxjs";
import {
  closedByPeer,
  connectTo,
  readAll,
  refusedPort,
  roundTrip,
  startBackend,
} from "../helpers/net.js";
import { startProxy } from "../helpers/proxy.js";

const sha = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

test("10 MB of random bytes each way arrive intact", async (t) => {
  const upload = randomBytes(10 * 1024 * 1024);
  const download = randomBytes(10 * 1024 * 1024);
  let received: Buffer | null = null;
  // The backend answers with its own 10 MB while it reads the client's, then ends.
  const backend = await startBackend((socket) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => {
      received = Buffer.concat(chunks);
      socket.end();
    });
    socket.write(download);
  });
  const { proxy, port } = await startProxy({ backends: [backend.address] });
  t.teardown(async () => {
    await proxy.close();
    await backend.close();
  });
  const client = await connectTo(port);
  const reply = readAll(client);
  client.end(upload);
  const got = await reply;
  t.is(sha(got), sha(download));
  t.is(received === null ? "" : sha(received), sha(upload));
  await firstValueFrom(
    proxy.health$.pipe(filter((h) => h.totals.active === 0 && h.backends[0]?.bytesIn !== 0)),
  );
  const stats = proxy.snapshot().backends[0];
  t.is(stats?.bytesIn, upload.length);
  t.is(stats?.bytesOut, download.length);
});

test("half-close from the client: its FIN reaches the backend, which can still answer", async (t) => {
  const backend = await startBackend((socket) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    // Answer only after the client's EOF: proves the FIN arrived and the reply path stayed open.
    socket.on("end", () => socket.end(`got ${Buffer.concat(chunks).toString()}`));
  });
  const { proxy, port } = await startProxy({ backends: [backend.address] });
  t.teardown(async () => {
    await proxy.close();
    await backend.close();
  });
  t.is((await roundTrip(port, "question")).toString(), "got question");
});

test("half-close from the backend: the client sees EOF and can still send", async (t) => {
  let backendSocket: Socket | null = null;
  const backend = await startBackend((socket) => {
    backendSocket = socket;
    socket.end("banner\n");
  });
  const { proxy, port } = await startProxy({ backends: [backend.address] });
  t.teardown(async () => {
    await proxy.close();
    await backend.close();
  });
  const client = await connectTo(port);
  t.is((await readAll(client)).toString(), "banner\n");
  const late = new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    const socket = backendSocket as Socket | null;
    if (socket === null) return resolve("no backend socket");
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString()));
  });
  client.end("still talking");
  t.is(await late, "still talking");
  client.destroy();
});

test("a backend that dies mid-stream closes the client promptly and stays up", async (t) => {
  const backend = await startBackend((socket) => {
    socket.write("partial");
    socket.once("data", () => socket.resetAndDestroy());
  });
  const { proxy, port, events } = await startProxy({ backends: [backend.address] });
  t.teardown(async () => {
    await proxy.close();
    await backend.close();
  });
  const client = await connectTo(port);
  const failed = once(client, "error");
  client.write("go");
  const [error] = (await failed) as [NodeJS.ErrnoException];
  t.is(error.code, "ECONNRESET");
  t.false(events.some((e) => e.type === "backend-down"));
  t.true(proxy.snapshot().backends[0]?.failed === false);
});

test("a client that resets mid-stream closes the backend side promptly", async (t) => {
  let relayedClosed: Promise<void> | null = null;
  const backend = await startBackend((socket) => {
    // Only the relayed connection sends data (the start-up probe does not).
    socket.once("data", () => {
      relayedClosed = new Promise((resolve) => socket.once("close", () => resolve()));
      socket.write("hello");
    });
  });
  const { proxy, port } = await startProxy({ backends: [backend.address] });
  t.teardown(async () => {
    await proxy.close();
    await backend.close();
  });
  const client = await connectTo(port);
  client.write("hi");
  await once(client, "data");
  client.resetAndDestroy();
  await firstValueFrom(
    proxy.health$.pipe(filter((h) => h.totals.active === 0 && h.backends[0]?.requests === 1)),
  );
  t.not(relayedClosed, null);
  await relayedClosed;
  t.pass();
});

test("client bytes sent before the backend connects are neither lost nor reordered", async (t) => {
  const deadPort = await refusedPort();
  const backend = await startBackend();
  const { proxy, port } = await startProxy({
    backends: [`127.0.0.1:${deadPort}`, backend.address],
    probeDelay: "1h",
  });
  t.teardown(async () => {
    await proxy.close();
    await backend.close();
  });
  // Written at once, while the proxy is still failing over from the refused primary.
  const parts = Array.from({ length: 50 }, (_, i) => `${i};`);
  const client = await connectTo(port);
  const reply = readAll(client);
  for (const part of parts) client.write(part);
  client.end();
  t.is((await reply).toString(), parts.join(""));
});

test("500 concurrent clients are all relayed", async (t) => {
  const backend = await startBackend();
  const { proxy, port } = await startProxy({ backends: [backend.address] });
  t.teardown(async () => {
    await proxy.close();
    await backend.close();
  });
  const replies = await Promise.all(
    Array.from({ length: 500 }, (_, i) => roundTrip(port, `client ${i}`)),
  );
  t.deepEqual(
    replies.map((r) => r.toString()),
    Array.from({ length: 500 }, (_, i) => `client ${i}`),
  );
  await firstValueFrom(
    proxy.health$.pipe(filter((h) => h.totals.active === 0 && h.totals.accepted === 500)),
  );
  t.is(proxy.snapshot().backends[0]?.requests, 500);
});

test("with every backend down the client is closed, and the proxy serves again once one returns", async (t) => {
  const deadPort = await refusedPort();
  const { proxy, port, events } = await startProxy({
    backends: [`127.0.0.1:${deadPort}`],
    probeDelay: "50ms",
  });
  t.teardown(() => proxy.close());
  const client = await connectTo(port);
  t.is((await closedByPeer(client)).length, 0);
  t.true(events.some((e) => e.type === "no-backend"));
  t.is(proxy.snapshot().totals.refused >= 1, true);
  const up = firstValueFrom(proxy.events$.pipe(filter((e) => e.type === "backend-up")));
  const backend = await startBackend(undefined, deadPort);
  t.teardown(() => backend.close());
  await up;
  t.is((await roundTrip(port, "again")).toString(), "again");
});

test("failover when the primary dies: new clients go to the fallback; failback when it returns", async (t) => {
  const primary = await startBackend();
  const fallback = await startBackend();
  const { proxy, port } = await startProxy({
    backends: [primary.address, fallback.address],
    probeDelay: "50ms",
  });
  t.teardown(async () => {
    await proxy.close();
    await fallback.close();
  });
  t.is((await roundTrip(port, "one")).toString(), "one");
  t.is(primary.served(), 1);
  const primaryPort = primary.port;
  await primary.close();
  t.is((await roundTrip(port, "two")).toString(), "two");
  t.is(fallback.served(), 1);
  const back = firstValueFrom(proxy.events$.pipe(filter((e) => e.type === "backend-up")));
  const revived = await startBackend(undefined, primaryPort);
  t.teardown(() => revived.close());
  await back;
  t.is((await roundTrip(port, "three")).toString(), "three");
  t.is(revived.served(), 1);
  t.is(fallback.served(), 1);
});

test("a client that half-closes with no data before the backend connects: the FIN still reaches the backend", async (t) => {
  const deadPort = await refusedPort();
  const backendSawEnd: Promise<string>[] = [];
  const backend = await startBackend((socket) => {
    backendSawEnd.push(
      new Promise((resolve) => {
        socket.on("data", () => undefined);
        socket.once("end", () => {
          socket.end("bye");
          resolve("end");
        });
      }),
    );
  });
  const { proxy, port } = await startProxy({
    backends: [`127.0.0.1:${deadPort}`, backend.address],
    probeDelay: "1h",
  });
  t.teardown(async () => {
    await proxy.close();
    await backend.close();
  });
  const client = await connectTo(port);
  const reply = readAll(client);
  client.end();
  t.is((await reply).toString(), "bye");
  t.true(backendSawEnd.length >= 1);
});
