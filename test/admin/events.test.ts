import test from "ava";
import { type ClientRequest, type IncomingMessage, request } from "node:http";
import { readdirSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Observable, Subject } from "rxjs";
import { startAdminServer } from "../../src/adapters/admin/admin-server.js";
import { silentLogger } from "../../src/domain/logger.js";
import { startBackend } from "../helpers/net.js";
import { startProxy } from "../helpers/proxy.js";
import { call } from "./helpers.js";

interface Stream {
  readonly req: ClientRequest;
  /** Resolves with the data of the next event of this type. */
  next(type: string): Promise<unknown>;
}

/** Opens GET /events and parses its frames. */
const openEvents = (port: number): Promise<Stream> =>
  new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/events" }, (res: IncomingMessage) => {
      let buffer = "";
      const frames: Array<{ type: string; data: unknown }> = [];
      const waiting: Array<{ type: string; resolve: (data: unknown) => void }> = [];
      const deliver = (): void => {
        for (let i = 0; i < waiting.length; i++) {
          const w = waiting[i];
          const at = frames.findIndex((f) => f.type === w?.type);
          if (w !== undefined && at >= 0) {
            const [frame] = frames.splice(at, 1);
            waiting.splice(i--, 1);
            w.resolve(frame?.data);
          }
        }
      };
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const text = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(text)?.[1];
          const data = /^data: (.*)$/m.exec(text)?.[1];
          if (type !== undefined && data !== undefined)
            frames.push({ type, data: JSON.parse(data) });
        }
        deliver();
      });
      res.on("error", () => undefined);
      resolve({
        req,
        next: (type) =>
          new Promise((r) => {
            waiting.push({ type, resolve: r });
            deliver();
          }),
      });
    });
    req.on("error", reject);
    req.end();
  });

const setUp = async (t: import("ava").ExecutionContext) => {
  const a = await startBackend();
  const b = await startBackend();
  const running = await startProxy({
    backends: [a.address, b.address],
    statsInterval: 0,
    drainTimeout: 0,
    admin: 0,
  });
  t.teardown(async () => {
    await running.proxy.close();
    await a.close();
    await b.close();
  });
  const admin = await running.proxy.admin;
  return { a, b, ...running, adminPort: admin?.port ?? 0 };
};

test("GET /events replays the state first, then streams live events", async (t) => {
  const { a, b, adminPort } = await setUp(t);
  const stream = await openEvents(adminPort);
  t.teardown(() => stream.req.destroy());
  const state = (await stream.next("state")) as { route: { backends: string[] } };
  t.deepEqual(state.route.backends, [a.address, b.address]);
  const admin = stream.next("backend-admin");
  await call(adminPort, "POST", `/backends/${a.address}/drain`);
  const event = (await admin) as { action: string; backend: { id: string } };
  t.is(event.action, "drain");
  t.is(event.backend.id, a.address);
  // A late client knows where traffic goes now.
  const late = await openEvents(adminPort);
  t.teardown(() => late.req.destroy());
  t.deepEqual(((await late.next("state")) as { route: { backends: string[] } }).route.backends, [
    b.address,
  ]);
});

test("GET /events tells each route change as a route event with backend ids", async (t) => {
  const { a, b, adminPort } = await setUp(t);
  const stream = await openEvents(adminPort);
  t.teardown(() => stream.req.destroy());
  await stream.next("state");
  const route = stream.next("route");
  await call(adminPort, "POST", `/backends/${a.address}/maint`);
  t.like(await route, { type: "route", backends: [b.address] });
  const back = stream.next("route");
  await call(adminPort, "POST", `/backends/${a.address}/enable`);
  t.like(await back, { type: "route", backends: [a.address, b.address] });
});

const CLIENTS = 1000;

/** Open file descriptors of this process. */
const openFds = (): number => readdirSync("/proc/self/fd").length;

/** The heap in use after a full collection, in MiB. */
const heapAfterGc = (): number => {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

test.serial(
  `${CLIENTS} SSE clients connecting and leaving leave no handle and no subscription behind`,
  async (t) => {
    const { adminPort, proxy } = await setUp(t);
    const handles = (): number =>
      (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
    /** A thousand clients open the stream, read the state and leave; then the server settles. */
    const round = async (): Promise<void> => {
      const streams = await Promise.all(
        Array.from({ length: CLIENTS }, () => openEvents(adminPort)),
      );
      await Promise.all(streams.map((s) => s.next("state")));
      t.is((await call(adminPort, "GET", "/status")).status, 200);
      await Promise.all(
        streams.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.req.socket?.once("close", () => resolve());
              s.req.destroy();
            }),
        ),
      );
    };
    // A first round warms up what grows once (parser pools, compiled code): the baseline.
    await round();
    const settle = async (fds: number, count: number): Promise<void> => {
      // The server sees each client leave a moment after the client does: bounded poll.
      for (let i = 0; i < 250 && (openFds() > fds || handles() > count); i++)
        await new Promise((r) => setTimeout(r, 20));
    };
    await settle(openFds() - CLIENTS, Infinity);
    const fdsBefore = openFds();
    const handlesBefore = handles();
    const heapBefore = heapAfterGc();
    for (let i = 0; i < 3; i++) await round();
    await settle(fdsBefore, handlesBefore);
    const fdsAfter = openFds();
    const handlesAfter = handles();
    const heapAfter = heapAfterGc();
    t.log(`after ${3 * CLIENTS} more SSE clients came and left:`);
    t.log(`fds ${fdsBefore} before, ${fdsAfter} after; handles ${handlesBefore}, ${handlesAfter}`);
    t.log(`heap after gc: ${heapBefore.toFixed(1)} MiB before, ${heapAfter.toFixed(1)} MiB after`);
    t.true(fdsAfter <= fdsBefore);
    t.true(handlesAfter <= handlesBefore);
    // A leak of 1 KiB per client would be 3 MiB here.
    t.true(heapAfter - heapBefore < 3, `heap grew ${(heapAfter - heapBefore).toFixed(1)} MiB`);
    // Nothing subscribed is left: an event now reaches no stream (no write to a closed socket).
    proxy.failback();
    t.is((await call(adminPort, "GET", "/status")).status, 200);
  },
);

test.serial(
  `${CLIENTS} SSE clients leaving drop their subscriptions and heartbeat timers`,
  async (t) => {
    const source = new Subject<{ type: string }>();
    let subscribed = 0;
    const events$ = new Observable<{ type: string }>((subscriber) => {
      subscribed++;
      const inner = source.subscribe(subscriber);
      return () => {
        subscribed--;
        inner.unsubscribe();
      };
    });
    const server = startAdminServer({
      address: { host: "127.0.0.1", port: 0 },
      logger: silentLogger,
      api: {
        status: () => ({ ok: true }),
        events$,
        backendIndex: () => undefined,
        act: () => undefined,
        closeSessions: () => 0,
        overrideRoute: () => undefined,
        failback: () => undefined,
      },
    });
    t.teardown(() => server.close());
    const { port } = await server.listening;
    const timers = (): number =>
      process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const timersBefore = timers();
    const streams = await Promise.all(Array.from({ length: CLIENTS }, () => openEvents(port)));
    await Promise.all(streams.map((s) => s.next("state")));
    t.is(subscribed, CLIENTS);
    const got = Promise.all(streams.map((s) => s.next("ping")));
    source.next({ type: "ping" });
    await got;
    for (const s of streams) s.req.destroy();
    for (let i = 0; i < 250 && (subscribed > 0 || timers() > timersBefore); i++)
      await new Promise((r) => setTimeout(r, 20));
    t.log(
      `subscriptions: ${CLIENTS} open, ${subscribed} after they left; timers ${timersBefore} before, ${timers()} after`,
    );
    t.is(subscribed, 0);
    t.true(timers() <= timersBefore);
  },
);
