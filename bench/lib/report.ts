/** From measurements to figures: medians, ranges, ratios, per-core rates; text, JSON, markdown. */
import type { Machine } from "./machine.js";
import type { Options, PeerName, ScenarioName } from "./options.js";

export interface Measurement {
  readonly scenario: ScenarioName;
  readonly peer: PeerName;
  readonly round: number;
  readonly figures: Readonly<Record<string, number | null>>;
  readonly cpuSeconds: number | null;
  readonly wallSeconds: number;
  readonly details?: Readonly<Record<string, number | string | boolean | null>>;
  readonly error?: string;
}

export interface MetricInfo {
  readonly key: string;
  /** What it is, with its unit, e.g. "Gbit/s" or "p99 ms". */
  readonly label: string;
  readonly better: "higher" | "lower";
  /** Rates only: also reported per core the proxy used. */
  readonly perCore: boolean;
}

export interface Row {
  readonly scenario: ScenarioName;
  readonly metric: string;
  readonly label: string;
  readonly better: "higher" | "lower";
  readonly peer: PeerName;
  /** One per round that produced the figure. */
  readonly values: ReadonlyArray<number>;
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
  /** median / direct's median of the same run. */
  readonly vsDirect: number | null;
  /** median / haproxy's median of the same run. */
  readonly vsHaproxy: number | null;
  /** tcp-fallback's rows only: median / the baseline's median of the same run. */
  readonly vsBaseline: number | null;
  /** Median CPU seconds the proxy used per measurement (headline metric only). */
  readonly cpuSeconds: number | null;
  /** Median of figure / (cpu seconds / wall seconds): the rate one fully used core would give. */
  readonly perCore: number | null;
  readonly errors: number;
}

export interface ScenarioInfo {
  readonly name: ScenarioName;
  readonly title: string;
  readonly metrics: ReadonlyArray<MetricInfo>;
  /** Why it did not run, or null. */
  readonly skipped: string | null;
  /** Peers left out of this scenario, with the reason. */
  readonly notApplicable: Readonly<Record<string, string>>;
}

export interface Results {
  readonly schema: "tcp-fallback-bench/1";
  readonly machine: Machine;
  readonly options: Omit<Options, "out" | "help">;
  readonly pinned: boolean;
  readonly nofile: number | null;
  readonly peers: ReadonlyArray<{ readonly name: PeerName; readonly skipped: string | null }>;
  readonly scenarios: ReadonlyArray<ScenarioInfo>;
  readonly rows: ReadonlyArray<Row>;
  readonly measurements: ReadonlyArray<Measurement>;
  readonly notes: ReadonlyArray<string>;
  readonly durationSeconds: number;
}

export const median = (values: ReadonlyArray<number>): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const ratio = (value: number | null, reference: number | null | undefined): number | null =>
  value === null || reference === null || reference === undefined || reference === 0
    ? null
    : value / reference;

/** One row per scenario × metric × peer, in the order given. */
export const summarize = (
  scenarios: ReadonlyArray<ScenarioInfo>,
  peers: ReadonlyArray<PeerName>,
  measurements: ReadonlyArray<Measurement>,
): Row[] => {
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    if (scenario.skipped !== null) continue;
    scenario.metrics.forEach((metric, index) => {
      const medians = new Map<PeerName, number | null>();
      const partial: Array<Omit<Row, "vsDirect" | "vsHaproxy" | "vsBaseline">> = [];
      for (const peer of peers) {
        if (scenario.notApplicable[peer] !== undefined) continue;
        const own = measurements.filter((m) => m.scenario === scenario.name && m.peer === peer);
        if (own.length === 0) continue;
        const ok = own.filter((m) => m.error === undefined);
        const values = ok
          .map((m) => m.figures[metric.key])
          .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
        const headline = index === 0;
        const cpu = ok.map((m) => m.cpuSeconds).filter((v): v is number => v !== null);
        const perCore = ok.flatMap((m) => {
          const value = m.figures[metric.key];
          return typeof value === "number" && m.cpuSeconds !== null && m.cpuSeconds > 0.01
            ? [value / (m.cpuSeconds / m.wallSeconds)]
            : [];
        });
        const mid = median(values);
        medians.set(peer, mid);
        partial.push({
          scenario: scenario.name,
          metric: metric.key,
          label: metric.label,
          better: metric.better,
          peer,
          values,
          median: mid,
          min: values.length === 0 ? null : Math.min(...values),
          max: values.length === 0 ? null : Math.max(...values),
          cpuSeconds: headline ? median(cpu) : null,
          perCore: headline && metric.perCore ? median(perCore) : null,
          errors: own.length - ok.length,
        });
      }
      for (const row of partial)
        rows.push({
          ...row,
          vsDirect: ratio(row.median, medians.get("direct")),
          vsHaproxy: ratio(row.median, medians.get("haproxy")),
          vsBaseline:
            row.peer === "tcp-fallback" ? ratio(row.median, medians.get("baseline")) : null,
        });
    });
  }
  return rows;
};

/** Three significant digits, without exponent notation. */
export const formatNumber = (value: number | null): string => {
  if (value === null) return "–";
  const magnitude = Math.abs(value);
  if (magnitude >= 100 || value === 0 || Number.isInteger(value)) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toPrecision(2);
};

const formatRatio = (value: number | null): string =>
  value === null ? "–" : value === 0 || value >= 0.1 ? value.toFixed(2) : value.toPrecision(2);

const HEADER = [
  "scenario",
  "figure",
  "peer",
  "median",
  "min–max",
  "× direct",
  "× haproxy",
  "CPU s",
  "per core",
];
const BASELINE_COLUMN = "× baseline";
/** Where "× baseline" goes, when the run has a baseline: after "× haproxy". */
const BASELINE_AT = HEADER.indexOf("× haproxy") + 1;

/** The "× baseline" column only appears in runs that measured a baseline. */
const hasBaseline = (rows: ReadonlyArray<Row>): boolean => rows.some((r) => r.peer === "baseline");

const withBaseline = (line: ReadonlyArray<string>, cell: string, shown: boolean): string[] =>
  shown ? [...line.slice(0, BASELINE_AT), cell, ...line.slice(BASELINE_AT)] : [...line];

const header = (shown: boolean): string[] => withBaseline(HEADER, BASELINE_COLUMN, shown);

const cells = (row: Row, shown: boolean): string[] =>
  withBaseline(
    [
      row.scenario,
      row.label,
      row.peer,
      row.median === null ? (row.errors > 0 ? "error" : "none") : formatNumber(row.median),
      row.min === null ? "–" : `${formatNumber(row.min)}–${formatNumber(row.max)}`,
      formatRatio(row.vsDirect),
      formatRatio(row.vsHaproxy),
      row.cpuSeconds === null ? "" : row.cpuSeconds.toFixed(2),
      row.perCore === null ? "" : formatNumber(row.perCore),
    ],
    row.peer === "tcp-fallback" ? formatRatio(row.vsBaseline) : "",
    shown,
  );

/** A plain aligned table for the terminal. */
export const textTable = (rows: ReadonlyArray<Row>): string => {
  const shown = hasBaseline(rows);
  const table = [header(shown), ...rows.map((row) => cells(row, shown))];
  const widths = header(shown).map((_, i) =>
    Math.max(...table.map((line) => (line[i] ?? "").length)),
  );
  return table
    .map((line) =>
      line
        .map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
};

const describeRun = (results: Results): string => {
  const { machine, options } = results;
  return (
    `${machine.date.slice(0, 10)}: ${machine.cpuModel}, ${machine.cores} cores, ` +
    `Node ${machine.node}, Linux ${machine.kernel}; median of ${options.rounds} round(s), ` +
    `${options.seconds} s per measurement, peers alternating within each round; ` +
    (results.pinned
      ? "proxy pinned to CPU 0, load generator and backends to CPU 1"
      : "no CPU pinning") +
    (options.tfArgs.length > 0 ? `; tcp-fallback ${options.tfArgs.join(" ")}` : "") +
    (options.baseline === undefined ? "" : `; baseline: tcp-fallback from ${options.baseline}`) +
    "."
  );
};

/** Markdown for the README (to be run through prettier by the caller). */
export const markdown = (results: Results): string => {
  const line = (values: ReadonlyArray<string>): string => `| ${values.join(" | ")} |`;
  const shown = hasBaseline(results.rows);
  return [
    describeRun(results),
    "",
    line(header(shown)),
    line(header(shown).map((_, i) => (i < 3 ? "---" : "--:"))),
    ...results.rows.map((row) => line(cells(row, shown))),
    "",
    ...results.notes.map((note) => `- ${note}`),
    "",
  ].join("\n");
};
