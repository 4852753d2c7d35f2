import test from "ava";
import { BehaviorSubject, combineLatest, filter, firstValueFrom, map, take } from "rxjs";
import {
  InvalidOptionsError,
  type Logger,
  type RoutePolicy,
  createFallbackProxy,
  firstHealthyRoute,
  stickyUntilDown,
} from "../src/index.js";
import { refusedPort, roundTrip, startBackend } from "./helpers/net.js";
import { startProxy } from "./helpers/proxy.js";

test("invalid options throw one readable error naming each problem", (t) => {
  const error = t.throws(
    () =>
      createFallbackProxy({
        listen: "127.0.0.1:0",
        backends: ["db1"],
        connectTimeout: "soon",
        route: "first" as unknown as RoutePolicy,
      }),
    { instanceOf: InvalidOptionsError },
  );
  t.regex(
    error?.message ?? "",
    /options\.backends\[0\]: invalid backend address "db1": missing port/,
  );
  t.regex(error?.message ?? "", /options\.connectTimeout: .*"soon"/);
  t.regex(error?.message ?? "", /options\.route: expected a function/);
  t.notRegex(error?.message ?? "", /\bat .*\.js:\d+/);
});

test("a logger without debugEnabled (console-like) gets debug lines; its methods keep their this", async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.close());
  class Recorder {
    readonly lines: string[] = [];
    debug(message: string): void {
      this.lines.push(`debug ${message}`);
    }
    info(message: string): void {
      this.lines.push(`info ${message}`);
    }
    warn(message: string): void {
      this.lines.push(`warn ${message}`);
    }
    error(message: string): void {
      this.lines.push(`error ${message}`);
    }
  }
  const recorder = new Recorder();
  const { proxy, port } = await startProxy({
    backends: [backend.address],
    logger: recorder as unknown as Logger,
  });
  await roundTrip(port, "hi");
  await proxy.close();
  t.true(recorder.lines.includes(`info Backend ${backend.address} added`));
  t.true(recorder.lines.some((line) => /^debug Connection .* opened$/.test(line)));
});

test("a custom route: a manual override merged with health pins traffic to a chosen backend", async (t) => {
  const primary = await startBackend();
  const standby = await startBackend();
  // null: follow health; a number: send new clients to that backend while it is healthy.
  const override = new BehaviorSubject<number | null>(null);
  const manualOverride: RoutePolicy = (health$) =>
    combineLatest([health$, override]).pipe(
      map(([health, pinned]) => {
        const healthy = firstHealthyRoute(health);
        const chosen = healthy.find((backend) => backend.index === pinned);
        return chosen === undefined ? healthy : [chosen, ...healthy.filter((b) => b !== chosen)];
      }),
    );
  const { proxy, port } = await startProxy({
    backends: [primary.address, standby.address],
    route: manualOverride,
  });
  t.teardown(async () => {
    await proxy.close();
    await primary.close();
    await standby.close();
  });
  await roundTrip(port, "a");
  override.next(1);
  await roundTrip(port, "b");
  override.next(null);
  await roundTrip(port, "c");
  t.is(primary.served(), 2);
  t.is(standby.served(), 1);
});

test("stickyUntilDown: after failover, new clients stay on the fallback when the primary returns", async (t) => {
  const primary = await startBackend();
  const fallback = await startBackend();
  const { proxy, port } = await startProxy({
    backends: [primary.address, fallback.address],
    route: stickyUntilDown,
    probeDelay: "50ms",
  });
  t.teardown(async () => {
    await proxy.close();
    await fallback.close();
  });
  await roundTrip(port, "1");
  const primaryPort = primary.port;
  await primary.close();
  await roundTrip(port, "2");
  const back = firstValueFrom(proxy.events$.pipe(filter((e) => e.type === "backend-up")));
  const revived = await startBackend(undefined, primaryPort);
  t.teardown(() => revived.close());
  await back;
  await roundTrip(port, "3");
  t.is(primary.served(), 1);
  t.is(fallback.served(), 2);
  t.is(revived.served(), 0);
  t.deepEqual(
    (await firstValueFrom(proxy.route$)).map((b) => b.label),
    [fallback.address, `127.0.0.1:${primaryPort}`],
  );
});

test("health$ replays the current state; events$ carries the reason a backend went down", async (t) => {
  const { proxy, events } = await startProxy({
    backends: ["127.0.0.1:1"],
    probeDelay: "1h",
    connectTimeout: "1s",
  });
  t.teardown(() => proxy.close());
  const down = await firstValueFrom(proxy.health$.pipe(filter((h) => h.backends[0]?.up === false)));
  t.is(down.backends[0]?.errors, 1);
  const event = events.find((e) => e.type === "backend-down");
  t.regex(event?.type === "backend-down" ? event.reason : "", /ECONNREFUSED/);
});

test("a custom probe decides when a down backend is back", async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const verdict = new BehaviorSubject(false);
  const { proxy } = await startProxy({
    backends: [backend.address],
    probeDelay: "20ms",
    // One verdict per probe, read when the probe runs.
    probe: () =>
      verdict.pipe(
        take(1),
        map((ok) => (ok ? { ok: true as const } : { ok: false as const, reason: "not ready" })),
      ),
  });
  t.teardown(() => proxy.close());
  await firstValueFrom(proxy.health$.pipe(filter((h) => h.backends[0]?.up === false)));
  verdict.next(true);
  await firstValueFrom(proxy.health$.pipe(filter((h) => h.backends[0]?.up === true)));
  t.pass();
});

test("a custom route may send clients to a backend marked down; a connect that works brings it back at once", async (t) => {
  const deadPort = await refusedPort();
  const fallback = await startBackend();
  const primaryAddress = `127.0.0.1:${deadPort}`;
  // Every backend, whatever their health: the policy decides to keep trying the primary.
  const alwaysAll: RoutePolicy = (health$) =>
    health$.pipe(map((health) => health.backends.map((b) => b.backend)));
  const { proxy, port } = await startProxy({
    backends: [primaryAddress, fallback.address],
    route: alwaysAll,
    probeDelay: "1h",
  });
  t.teardown(async () => {
    await proxy.close();
    await fallback.close();
  });
  await firstValueFrom(proxy.health$.pipe(filter((h) => h.backends[0]?.up === false)));
  const primary = await startBackend(undefined, deadPort);
  t.teardown(() => primary.close());
  const back = firstValueFrom(proxy.events$.pipe(filter((e) => e.type === "backend-up")));
  t.is((await roundTrip(port, "hi")).toString(), "hi");
  t.is((await back).type, "backend-up");
  t.is(primary.served(), 1);
});
