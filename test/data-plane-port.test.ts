import test from "ava";
import { NEVER, type Observable, asyncScheduler } from "rxjs";
import type { DataPlane, DataPlaneWiring, StartDataPlane } from "../src/domain/data-plane.js";
import type { Logger } from "../src/domain/logger.js";
import { type ProxyConfig, startFallbackProxy } from "../src/fallback-proxy.js";
import { firstHealthy } from "../src/streams/route-policies.js";

/** A data plane that only records what the root does with it. */
const fakeDataPlane = (listening: DataPlane["listening"]) => {
  const routes: number[][] = [];
  const drains: number[] = [];
  let wiring: DataPlaneWiring | null = null;
  const start: StartDataPlane = (given) => {
    wiring = given;
    return {
      listening,
      setRoute: (route) => routes.push(route.map((b) => b.index)),
      drain: async (timeoutMs) => void drains.push(timeoutMs),
      closeSessions: () => 0,
    };
  };
  return { start, routes, drains, wiring: () => wiring };
};

const recordingLogger = (lines: string[]): Logger => ({
  debug: (m) => lines.push(`DEBUG ${m}`),
  info: (m) => lines.push(`INFO ${m}`),
  warn: (m) => lines.push(`WARN ${m}`),
  error: (m) => lines.push(`ERROR ${m}`),
  debugEnabled: false,
});

/** Whether a stream has completed: the control plane's streams do once it is stopped. */
const completed = (stream$: Observable<unknown>): boolean => {
  let done = false;
  stream$.subscribe({ complete: () => (done = true) }).unsubscribe();
  return done;
};

const config = (dataPlane: StartDataPlane, logger: Logger): ProxyConfig => ({
  listen: { host: "127.0.0.1", port: 0 },
  backends: [
    { address: { host: "127.0.0.1", port: 1 }, label: "a:1" },
    { address: { host: "127.0.0.1", port: 2 }, label: "b:2" },
  ],
  connectTimeoutMs: 1_000,
  probeDelayMs: 60_000,
  statsIntervalMs: 0,
  drainTimeoutMs: 2_500,
  rise: 1,
  check: { kind: "tcp" },
  checkCredentials: {},
  fall: 1,
  route: firstHealthy,
  logger,
  scheduler: asyncScheduler,
  probe: () => NEVER,
  dataPlane,
});

test("the root drives any data plane: routes in, outcomes out, drain then final stats at close", async (t) => {
  const lines: string[] = [];
  const plane = fakeDataPlane(Promise.resolve({ address: "127.0.0.1", family: "IPv4", port: 7 }));
  const proxy = startFallbackProxy(config(plane.start, recordingLogger(lines)));
  t.like(await proxy.listening, { port: 7 });
  t.deepEqual(plane.routes, [[0, 1]]);

  // An outcome the data plane reports moves health, and the new route comes back at once.
  const wiring = plane.wiring();
  wiring?.emit({ type: "accepted", at: wiring.now() });
  wiring?.emit({ type: "connect-failed", backend: 0, reason: "refused", at: wiring.now() });
  t.deepEqual(plane.routes, [[0, 1], [1]]);
  t.false(wiring?.isUp(0));

  t.false(completed(proxy.health$));
  await proxy.close();
  t.true(completed(proxy.health$));
  t.deepEqual(plane.drains, [2_500]);
  t.deepEqual(lines.slice(0, 3), [
    "INFO Backend a:1 added",
    "INFO Backend b:2 added",
    "INFO Listening on 127.0.0.1:7",
  ]);
  t.regex(lines.at(-1) ?? "", /^INFO STATS: total active=0 accepted=1 /);
});

test("a data plane that cannot listen stops the control plane; the root logs no Listening line", async (t) => {
  const lines: string[] = [];
  const plane = fakeDataPlane(Promise.reject(new Error("cannot listen on 127.0.0.1:0: nope")));
  const proxy = startFallbackProxy(config(plane.start, recordingLogger(lines)));
  await t.throwsAsync(proxy.listening, { message: /nope/ });
  t.true(completed(proxy.health$));
  t.false(lines.some((line) => line.includes("Listening")));
});
