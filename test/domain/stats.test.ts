import test from "ava";
import { makeBackends } from "../../src/domain/backend.js";
import { initialHealth, reduceHealth } from "../../src/domain/health.js";
import { formatStatsLines, formatStatsTime, snapshotOf } from "../../src/domain/stats.js";

const t0 = Date.UTC(2026, 10, 26, 1, 50, 0, 120);

test("STATS lines keep the original's prefix and field order, new fields after last=", (t) => {
  const [a, b] = makeBackends([
    { host: "127.0.0.1", port: 7001 },
    { host: "::1", port: 7002 },
  ]);
  const state = [
    { type: "connect-failed", backend: 0, reason: "refused", at: t0 } as const,
    { type: "accepted", at: t0 } as const,
    { type: "connected", backend: 1, at: t0 } as const,
    { type: "closed", backend: 1, bytesIn: 100, bytesOut: 2000, at: t0 + 5 } as const,
  ].reduce(reduceHealth, initialHealth(a === undefined || b === undefined ? [] : [a, b]));
  t.deepEqual(formatStatsLines(snapshotOf(state, t0 + 90_500)), [
    "STATS: <127.0.0.1:7001> failed=true (downtime=1m30.5s) requests=0 bytes=0 errors=1 " +
      "last=2026-11-26 01:50:00.12 +0000 UTC bytes_in=0 bytes_out=0 active=0",
    "STATS: <[::1]:7002> failed=false (downtime=0s) requests=1 bytes=2100 errors=0 " +
      "last=2026-11-26 01:50:00.12 +0000 UTC bytes_in=100 bytes_out=2000 active=0",
    "STATS: total active=0 accepted=1 refused=0",
  ]);
});

test("a backend never used prints Go's zero time", (t) => {
  t.is(formatStatsTime(null), "0001-01-01 00:00:00 +0000 UTC");
  t.is(formatStatsTime(Date.UTC(2026, 0, 2, 3, 4, 5)), "2026-01-02 03:04:05 +0000 UTC");
});
