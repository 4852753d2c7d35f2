import type { ExecutionContext } from "ava";
import { asyncScheduler, map } from "rxjs";
import { TestScheduler } from "rxjs/testing";
import { type HealthEvent, type HealthState, reduceHealth } from "../../src/domain/health.js";
import type { Route } from "../../src/domain/route.js";
import type { PolicyContext } from "../../src/domain/route-policy.js";
import { makeBackends } from "../../src/domain/backend.js";

/** One TestScheduler per test, asserting with ava's deepEqual. */
export const testScheduler = (t: ExecutionContext): TestScheduler =>
  new TestScheduler((actual, expected) => t.deepEqual(actual, expected));

/** Three loopback backends: a primary (A) and two fallbacks (B, C). */
export const [A, B, C] = makeBackends([
  { host: "127.0.0.1", port: 7001 },
  { host: "127.0.0.1", port: 7002 },
  { host: "127.0.0.1", port: 7003 },
]) as [
  ReturnType<typeof makeBackends>[number],
  ReturnType<typeof makeBackends>[number],
  ReturnType<typeof makeBackends>[number],
];
export const backends = [A, B, C];

/** What the control plane hands a route policy; inside TestScheduler.run, asyncScheduler is virtual. */
export const policyContext: PolicyContext = { scheduler: asyncScheduler, backends };

/** A state after some events. */
export const after = (state: HealthState, ...events: HealthEvent[]): HealthState =>
  events.reduce(reduceHealth, state);

/** A route as letters, A for the primary: "BCA". */
export const labels = map((route: Route) => route.map((b) => "ABC"[b.index]).join(""));
