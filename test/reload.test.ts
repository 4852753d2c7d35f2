import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { type ProxySettings, decodeProxySettings } from "../src/index.js";
import { connectTo, roundTrip, startBackend } from "./helpers/net.js";
import { nextEvent, startProxy } from "./helpers/proxy.js";

const settings = (options: Record<string, unknown>): ProxySettings => {
  const decoded = decodeProxySettings({ statsInterval: 0, ...options });
  if (E.isLeft(decoded)) throw new Error(decoded.left);
  return decoded.right;
};

/** A live client connection; the proxy may reset it at teardown. */
const liveClient = async (port: number, host?: string): Promise<Socket> => {
  const socket = await connectTo(port, host);
  socket.on("error", () => undefined);
  return socket;
};

/** Sends a line on a live connection and resolves with its echo. */
const echo = async (socket: Socket, text: string): Promise<string> => {
  const got = once(socket, "data");
  socket.write(text);
  return String((await got)[0]);
};

test("a reload under traffic: new backend first, one removed; no client and no byte lost", async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  const c = await startBackend();
  const { proxy, port, events } = await startProxy({
    backends: [a.address, b.address],
    statsInterval: 0,
    drainTimeout: "5s",
  });
  t.teardown(async () => {
    await proxy.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  });
  // A live connection on the primary before the reload, and traffic all through it.
  const live = await liveClient(port);
  t.teardown(() => live.destroy());
  t.is(await echo(live, "before"), "before");
  // Eight clients at a time, 400 in all; the reload comes after the first 100.
  const TOTAL = 400;
  let started = 0;
  let done = 0;
  let atReload = 0;
  let reachedHundred: () => void = () => undefined;
  const hundred = new Promise<void>((resolve) => (reachedHundred = resolve));
  const mismatches: string[] = [];
  const traffic = Promise.all(
    Array.from({ length: 8 }, async () => {
      while (started < TOTAL) {
        const payload = randomBytes(1 + (started % 4096));
        started++;
        const reply = await roundTrip(port, payload);
        if (!reply.equals(payload)) mismatches.push(`${payload.length} bytes: got ${reply.length}`);
        if (++done === 100) reachedHundred();
      }
    }),
  );
  await hundred;
  const reloaded = nextEvent(proxy.events$, "config-reloaded");
  const servedByA = a.served();
  atReload = started;
  const outcome = await proxy.reload(
    settings({ listen: "127.0.0.1:0", backends: [c.address, a.address], drainTimeout: "5s" }),
  );
  t.like(outcome, { ok: true, added: [c.address], removed: [b.address], changed: [] });
  await reloaded;
  // The live one on the old primary goes on.
  t.is(await echo(live, "after"), "after");
  await traffic;
  t.deepEqual(mismatches, []);
  t.is(done, TOTAL);
  // Clients after the reload went to the new first backend (eight may have been on their way).
  t.true(a.served() <= servedByA + 8, `${a.served() - servedByA} on the old primary after`);
  t.true(c.served() >= TOTAL - atReload - 8, `${c.served()} on the new one`);
  // The old primary kept its counters: its slot is the same.
  const status = proxy.snapshot();
  t.true((status.backends.find((x) => x.label === a.address)?.requests ?? 0) >= 1);
  t.true(events.some((e) => e.type === "config-reloaded"));
  t.log(`${TOTAL} clients, ${TOTAL - atReload} of them after the reload; every byte back`);
});

test("a removed backend's live connection drains: it works until the drain timeout, then is closed", async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  const { proxy, port } = await startProxy({ backends: [a.address, b.address], statsInterval: 0 });
  t.teardown(async () => {
    await proxy.close();
    await Promise.all([a.close(), b.close()]);
  });
  const live = await liveClient(port);
  t.teardown(() => live.destroy());
  t.is(await echo(live, "x"), "x");
  const closed = new Promise((resolve) => live.once("close", resolve));
  const outcome = await proxy.reload(
    settings({ listen: "127.0.0.1:0", backends: [b.address], drainTimeout: "300ms" }),
  );
  t.like(outcome, { ok: true, removed: [a.address] });
  const reloadedAt = Date.now();
  t.is(await echo(live, "still"), "still");
  await closed;
  t.true(Date.now() - reloadedAt >= 250, `closed after ${Date.now() - reloadedAt} ms`);
  t.is((await roundTrip(port, "new")).toString(), "new");
  t.is(b.served(), 1);
});

test("a reload moves the listener: the new address serves, the old one's client goes on", async (t) => {
  const a = await startBackend();
  const { proxy, port } = await startProxy({ backends: [a.address], statsInterval: 0 });
  t.teardown(async () => {
    await proxy.close();
    await a.close();
  });
  const live = await liveClient(port);
  t.teardown(() => live.destroy());
  t.is(await echo(live, "x"), "x");
  const outcome = await proxy.reload(settings({ listen: "127.0.0.2:0", backends: [a.address] }));
  if (!outcome.ok) return t.fail(outcome.problems.join("; "));
  const moved = /^127\.0\.0\.2:(\d+)$/.exec(outcome.listen ?? "");
  t.truthy(moved, String(outcome.listen));
  const newPort = Number(moved?.[1]);
  const there = await liveClient(newPort, "127.0.0.2");
  t.teardown(() => there.destroy());
  t.is(await echo(there, "moved"), "moved");
  t.is(await echo(live, "old"), "old");
  // The old listener is closed: nothing accepts there any more.
  const refused = connectTo(port);
  await t.throwsAsync(refused, { code: "ECONNREFUSED" });
});

test("without a config source reloadConfig says so and changes nothing", async (t) => {
  const a = await startBackend();
  const { proxy, port } = await startProxy({ backends: [a.address], statsInterval: 0 });
  t.teardown(async () => {
    await proxy.close();
    await a.close();
  });
  t.like(await proxy.reloadConfig(), { ok: false });
  t.is((await roundTrip(port, "x")).toString(), "x");
});

test("a reload names the settings that apply only at the next start, and only those that changed", async (t) => {
  const a = await startBackend();
  const { proxy } = await startProxy({
    backends: [a.address],
    statsInterval: 0,
    idleTimeout: "1m",
    acceptProxy: false,
  });
  t.teardown(async () => {
    await proxy.close();
    await a.close();
  });
  const same = await proxy.reload(
    settings({ listen: "127.0.0.1:0", backends: [a.address], idleTimeout: "1m" }),
  );
  t.like(same, { ok: true, atRestart: [] });
  const changed = await proxy.reload(
    settings({
      listen: "127.0.0.1:0",
      backends: [a.address],
      idleTimeout: "2m",
      connectTimeout: "1s",
    }),
  );
  t.like(changed, { ok: true, atRestart: ["connectTimeout", "idleTimeout"] });
});

test("the admin API knows a reload's backends: an added one can be drained, a removed one is gone", async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  const { proxy } = await startProxy({ backends: [a.address], statsInterval: 0, admin: 0 });
  t.teardown(async () => {
    await proxy.close();
    await Promise.all([a.close(), b.close()]);
  });
  const admin = await proxy.admin;
  const base = `http://127.0.0.1:${admin?.port ?? 0}`;
  await proxy.reload(settings({ listen: "127.0.0.1:0", backends: [b.address] }));
  const drained = await fetch(`${base}/backends/${b.address}/drain`, { method: "POST" });
  t.is(drained.status, 200);
  t.is((await fetch(`${base}/backends/${a.address}/drain`, { method: "POST" })).status, 404);
  const status = (await (await fetch(`${base}/status`)).json()) as {
    backends: Array<{ id: string; state: string }>;
  };
  // The removed one held no connection: it is not shown any more.
  t.deepEqual(
    status.backends.map((x) => [x.id, x.state]),
    [[b.address, "drain"]],
  );
});

test("reloads asked at once apply one at a time, in order: the last one wins", async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  const { proxy, port } = await startProxy({ backends: [a.address], statsInterval: 0 });
  t.teardown(async () => {
    await proxy.close();
    await Promise.all([a.close(), b.close()]);
  });
  const outcomes = await Promise.all([
    proxy.reload(settings({ listen: "127.0.0.2:0", backends: [b.address, a.address] })),
    proxy.reload(settings({ listen: "127.0.0.2:0", backends: [a.address] })),
  ]);
  t.like(outcomes[0], { ok: true, added: [b.address] });
  t.like(outcomes[1], { ok: true, removed: [b.address] });
  // The second saw the first's listener and list: it did not move again, and A leads.
  t.is(outcomes[0].ok && outcomes[1].ok && outcomes[0].listen === outcomes[1].listen, true);
  t.deepEqual(
    proxy.snapshot().backends.map((x) => x.label),
    [a.address],
  );
  await t.throwsAsync(connectTo(port), { code: "ECONNREFUSED" });
});
