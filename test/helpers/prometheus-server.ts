import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { refusedPort } from "./net.js";

export const PROMETHEUS = "prometheus";

/** One series of a query result: `value` for an instant vector, `values` for a range. */
export interface QuerySeries {
  readonly metric: Record<string, string>;
  readonly value?: [number, string];
  readonly values?: ReadonlyArray<[number, string]>;
}

export interface PrometheusServer {
  readonly port: number;
  readonly pid: number;
  /** An instant query's result (the query API's data.result): a vector, or a matrix for a range. */
  query(expr: string): Promise<ReadonlyArray<QuerySeries>>;
  /** SIGTERM, SIGKILL if it lingers, then removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;
const READY_BOUND_MS = 20_000;

const waitForExit = (child: ChildProcess, ms: number): Promise<boolean> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(true)
    : Promise.race([once(child, "exit").then(() => true), sleep(ms).then(() => false)]);

const signal = (pid: number, name: NodeJS.Signals): void => {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
};

const fetchBounded = (url: string, ms = 2_000): Promise<Response> =>
  fetch(url, { signal: AbortSignal.timeout(ms) });

const config = (target: string): string =>
  [
    "global:",
    "  scrape_interval: 1s",
    "  scrape_timeout: 1s",
    "  evaluation_interval: 1s",
    "scrape_configs:",
    "  - job_name: tcp-fallback",
    "    metrics_path: /metrics",
    "    static_configs:",
    `      - targets: ["${target}"]`,
    "",
  ].join("\n");

const startOn = async (port: number, target: string): Promise<PrometheusServer> => {
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-prometheus-"));
  const configFile = join(dir, "prometheus.yml");
  await writeFile(configFile, config(target));
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const spawned = await once(child, "spawn").then(
    () => null,
    (error: unknown) => error as Error,
  );
  if (spawned !== null) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `cannot start ${PROMETHEUS} (${spawned.message}): install it (Debian: apt-get install prometheus)`,
    );
  }
  const pid = child.pid as number;
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        signal(pid, "SIGTERM");
        if (!(await waitForExit(child, STOP_GRACE_MS))) {
          signal(pid, "SIGKILL");
          await waitForExit(child, STOP_GRACE_MS);
        }
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  const base = `http://127.0.0.1:${port}`;
  const query: PrometheusServer["query"] = async (expr) => {
    const response = await fetchBounded(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { result: QuerySeries[] };
    };
    if (body.status !== "success") throw new Error(`query ${expr}: ${body.error ?? "failed"}`);
    return body.data?.result ?? [];
  };
  const started = Date.now();
  while (Date.now() - started < READY_BOUND_MS) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    const ready = await fetchBounded(`${base}/-/ready`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) return { port, pid, query, stop };
    await sleep(100);
  }
  const exited = child.exitCode !== null || child.signalCode !== null;
  await stop();
  throw new Error(
    `${PROMETHEUS} on port ${port} ${exited ? "exited" : "was not ready in time"}: ${stderr.trim()}`,
  );
};

/**
 * Starts Prometheus on loopback in a fresh temp dir, scraping `target` ("host:port") every
 * second. Its port is found by binding port 0 and closing it; if another process takes it in
 * between, the start is tried once more on another port.
 */
export const startPrometheus = async (target: string): Promise<PrometheusServer> => {
  try {
    return await startOn(await refusedPort(), target);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("cannot start")) throw error;
    return startOn(await refusedPort(), target);
  }
};
