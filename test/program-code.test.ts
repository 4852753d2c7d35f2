import test from "ava";
import {
  NEVER,
  type Observable,
  Subject,
  filter,
  firstValueFrom,
  map,
  take,
  throwError,
  toArray,
} from "rxjs";
import {
  InvalidOptionsError,
  type Probe,
  type ProxyEvent,
  type RoutePolicy,
  createFallbackProxy,
  firstHealthyRoute,
} from "../src/index.js";
import { refusedPort, roundTrip, startBackend } from "./helpers/net.js";
import { startProxy } from "./helpers/proxy.js";

// A program's own probe or policy misbehaving must never end the proxy (issue: 1.0.1, item 6).

const eventsOf = <T extends ProxyEvent["type"]>(
  proxy: { readonly events$: Observable<ProxyEvent> },
  type: T,
  count: number,
): Promise<Array<Extract<ProxyEvent, { type: T }>>> =>
  firstValueFrom(
    proxy.events$.pipe(
      filter((e): e is Extract<ProxyEvent, { type: T }> => e.type === type),
      take(count),
      toArray(),
    ),
  );

test("a probe that errors is a failed check with its reason, probed again, and the proxy goes on", async (t) => {
  const backend = await startBackend();
  let calls = 0;
  const probe: Probe = () => {
    calls++;
    return throwError(() => new Error("check exploded"));
  };
  const { proxy, events } = await startProxy({
    backends: [backend.address],
    probe,
    probeDelay: 20,
  });
  t.teardown(async () => {
    await proxy.close();
    await backend.close();
  });
  const failures = await eventsOf(proxy, "probe-failed", 2);
  t.is(failures[0]?.reason, "check failed: check exploded");
  t.true(calls >= 2);
  t.true(events.some((e) => e.type === "backend-down"));
  t.deepEqual(await firstValueFrom(proxy.route$), []);
});

test("a probe built on a rejected promise is a failed check", async (t) => {
  const { proxy } = await startProxy({
    backends: [`127.0.0.1:${await refusedPort()}`],
    probe: () => Promise.reject(new Error("fetch failed")),
    probeDelay: 20,
  });
  t.teardown(() => proxy.close());
  const [failure] = await eventsOf(proxy, "probe-failed", 1);
  t.is(failure?.reason, "check failed: fetch failed");
});

test("a probe that never answers fails at the connect timeout and the backend is checked again", async (t) => {
  let calls = 0;
  const { proxy } = await startProxy({
    backends: [`127.0.0.1:${await refusedPort()}`],
    probe: () => {
      calls++;
      return NEVER;
    },
    connectTimeout: 30,
    probeDelay: 10,
  });
  t.teardown(() => proxy.close());
  const failures = await eventsOf(proxy, "probe-failed", 2);
  t.is(failures[0]?.reason, "check timed out after 30ms");
  t.true(calls >= 2);
});

test("a policy that throws keeps the last route, reports an error event, and resumes", async (t) => {
  const primary = await startBackend();
  const closedPort = await refusedPort();
  const broken = new Subject<boolean>();
  let failing = false;
  broken.subscribe((value) => (failing = value));
  const policy: RoutePolicy = (health$) =>
    health$.pipe(
      map((state) => {
        if (failing) throw new Error("policy bug");
        return firstHealthyRoute(state);
      }),
    );
  const { proxy, port, events } = await startProxy({
    backends: [primary.address, `127.0.0.1:${closedPort}`],
    route: policy,
    probeDelay: 20,
  });
  t.teardown(async () => {
    await proxy.close();
    await primary.close();
  });
  // The start-up probe finds the second backend refusing: the route moves to the primary alone.
  await firstValueFrom(proxy.route$.pipe(filter((route) => route.length === 1)));
  const errored = eventsOf(proxy, "error", 1);
  failing = true;
  // The next health change runs the policy, which throws.
  t.is((await roundTrip(port, "a")).toString(), "a");
  const [error] = await errored;
  t.regex(error?.message ?? "", /policy bug/);
  t.is(error?.source, "route-policy");
  // The last route stays: clients are still relayed.
  t.is((await roundTrip(port, "b")).toString(), "b");
  failing = false;
  t.is((await roundTrip(port, "c")).toString(), "c");
  t.true(events.filter((e) => e.type === "error").length >= 1);
});

test("a policy that returns no Observable is an InvalidOptionsError before anything listens", (t) => {
  const error = t.throws(
    () =>
      createFallbackProxy({
        listen: "127.0.0.1:0",
        backends: ["127.0.0.1:9"],
        route: (() => []) as unknown as RoutePolicy,
      }),
    { instanceOf: InvalidOptionsError },
  );
  t.regex(
    error?.message ?? "",
    /options\.route: a policy must return an Observable of routes, got an array/,
  );
});
