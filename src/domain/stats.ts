import { formatDuration } from "./duration.js";
import { downtimeAt, type HealthState, type Totals, shown } from "./health.js";

export interface BackendStats {
  readonly label: string;
  readonly failed: boolean;
  readonly downtimeMs: number;
  readonly requests: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly errors: number;
  readonly active: number;
  readonly lastUsed: number | null;
}

export interface StatsSnapshot {
  readonly at: number;
  readonly backends: ReadonlyArray<BackendStats>;
  readonly totals: Totals;
}

export const snapshotOf = (state: HealthState, now: number): StatsSnapshot => ({
  at: now,
  backends: shown(state).map((b) => ({
    label: b.backend.label,
    failed: !b.up,
    downtimeMs: downtimeAt(b, now),
    requests: b.requests,
    bytesIn: b.bytesIn,
    bytesOut: b.bytesOut,
    errors: b.errors,
    active: b.active,
    lastUsed: b.lastUsed,
  })),
  totals: state.totals,
});

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** A time as Go prints a time.Time in UTC: "2026-11-26 01:50:00.123 +0000 UTC". */
export const formatStatsTime = (ms: number | null): string => {
  if (ms === null) return "0001-01-01 00:00:00 +0000 UTC";
  const d = new Date(ms);
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const millis = d.getUTCMilliseconds();
  return `${base}${millis === 0 ? "" : `.${pad(millis, 3).replace(/0+$/, "")}`} +0000 UTC`;
};

/**
 * The STATS lines: the original's fields in its order (existing parsers match them),
 * then the new fields, then one line of totals.
 */
export const formatStatsLines = (snapshot: StatsSnapshot): ReadonlyArray<string> => [
  ...snapshot.backends.map(
    (b) =>
      `STATS: <${b.label}> failed=${b.failed} (downtime=${formatDuration(b.downtimeMs)}) ` +
      `requests=${b.requests} bytes=${b.bytesIn + b.bytesOut} errors=${b.errors} ` +
      `last=${formatStatsTime(b.lastUsed)} bytes_in=${b.bytesIn} bytes_out=${b.bytesOut} active=${b.active}`,
  ),
  `STATS: total active=${snapshot.totals.active} accepted=${snapshot.totals.accepted} refused=${snapshot.totals.refused}`,
];
