import test from "ava";
import { NEVER, asyncScheduler, firstValueFrom, from, of, throwError } from "rxjs";
import { boundedProbe } from "../../src/streams/bounded-probe.js";
import type { Probe } from "../../src/domain/probe.js";
import { A, testScheduler } from "../helpers/marbles.js";
import { recordingScheduler } from "../helpers/recording-scheduler.js";

test("a probe that errors is a failed check carrying the error's message", (t) => {
  testScheduler(t).run(({ cold, expectObservable }) => {
    const probe: Probe = () => cold("--#", undefined, new Error("auth refused"));
    expectObservable(from(boundedProbe(probe, 10)(A))).toBe("--(f|)", {
      f: { ok: false, reason: "check failed: auth refused" },
    });
  });
});

test("a probe that throws when called is a failed check, not a crash", (t) => {
  testScheduler(t).run(({ expectObservable }) => {
    const probe: Probe = () => {
      throw new Error("bug in the check");
    };
    expectObservable(from(boundedProbe(probe, 10)(A))).toBe("(f|)", {
      f: { ok: false, reason: "check failed: bug in the check" },
    });
  });
});

test("a probe that never answers fails at the timeout", (t) => {
  testScheduler(t).run(({ expectObservable }) => {
    expectObservable(from(boundedProbe(() => NEVER, 300)(A))).toBe("300ms (f|)", {
      f: { ok: false, reason: "check timed out after 300ms", latencyMs: 300 },
    });
  });
});

test("only a probe's first verdict counts, and an answer before the timeout is kept", (t) => {
  testScheduler(t).run(({ cold, expectObservable }) => {
    const probe: Probe = () =>
      cold("5ms a 5ms b 500ms c", {
        a: { ok: true } as const,
        b: { ok: false, reason: "late" } as const,
        c: { ok: false, reason: "later" } as const,
      });
    expectObservable(from(boundedProbe(probe, 10)(A))).toBe("5ms (a|)", { a: { ok: true } });
  });
});

test("a result that is not a verdict is a failed check", (t) => {
  testScheduler(t).run(({ cold, expectObservable }) => {
    const probe = (() => cold("-x|", { x: "PONG" })) as unknown as Probe;
    expectObservable(from(boundedProbe(probe, 10)(A))).toBe("-(f|)", {
      f: { ok: false, reason: "check gave no ok/reason result" },
    });
  });
});

test("a probe may be a promise; a rejected one is a failed check", async (t) => {
  const resolved: Probe = () => Promise.resolve({ ok: true });
  const rejected: Probe = () => Promise.reject(new Error("fetch failed"));
  t.deepEqual(await firstValueFrom(from(boundedProbe(resolved, 1000, asyncScheduler)(A))), {
    ok: true,
  });
  t.deepEqual(await firstValueFrom(from(boundedProbe(rejected, 1000, asyncScheduler)(A))), {
    ok: false,
    reason: "check failed: fetch failed",
  });
});

test("a plain throwError probe fails the check with its message", async (t) => {
  const probe: Probe = () => throwError(() => new Error("down for maintenance"));
  t.deepEqual(await firstValueFrom(from(boundedProbe(probe, 1000)(A))), {
    ok: false,
    reason: "check failed: down for maintenance",
  });
  t.deepEqual(await firstValueFrom(from(boundedProbe(() => of({ ok: true }), 1000)(A))), {
    ok: true,
  });
});

test("a probe timeout longer than a timer can hold waits that long, in waits a timer can hold", (t) => {
  testScheduler(t).run(({ expectObservable, flush }) => {
    const recorded = recordingScheduler(asyncScheduler);
    expectObservable(from(boundedProbe(() => NEVER, 600 * 3_600_000, recorded.scheduler)(A))).toBe(
      "36000m (f|)",
      { f: { ok: false, reason: "check timed out after 600h0m0s", latencyMs: 600 * 3_600_000 } },
    );
    flush();
    t.true(recorded.delays.every((delay) => delay <= 2 ** 31 - 1));
  });
});

test("a probe that completes without a verdict says nothing and ends the check", (t) => {
  testScheduler(t).run(({ cold, expectObservable }) => {
    expectObservable(from(boundedProbe(() => cold("--|"), 10)(A))).toBe("--|");
  });
});

test("a check's latency is kept when it is a duration, left out when it is not", (t) => {
  testScheduler(t).run(({ cold, expectObservable }) => {
    const given: ReadonlyArray<unknown> = [2.5, 0, -1, Number.NaN, Number.POSITIVE_INFINITY, "5"];
    for (const latencyMs of given) {
      const probe = (() =>
        cold("-r|", { r: { ok: false, reason: "refused", latencyMs } })) as unknown as Probe;
      const kept = typeof latencyMs === "number" && latencyMs >= 0 && latencyMs !== Infinity;
      expectObservable(from(boundedProbe(probe, 10)(A))).toBe("-(r|)", {
        r: kept ? { ok: false, reason: "refused", latencyMs } : { ok: false, reason: "refused" },
      });
    }
  });
});
