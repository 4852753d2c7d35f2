import type { ExecutionContext } from "ava";
import { asyncScheduler } from "rxjs";
import { TestScheduler } from "rxjs/testing";
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
