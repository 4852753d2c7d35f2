/**
 * rps and churn: wrk through the proxy to nginx answering "ok" (keep-alive for rps, a new
 * connection per request for churn).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Context, LOAD_CPU, placement, tool } from "../lib/context.js";
import { HOST, freePort, waitForPort } from "../lib/net.js";
import { cpuWindow, runToEnd, spawnTracked } from "../lib/proc.js";
import { ProxyPool, type Scenario, wholeSeconds } from "./scenario.js";

export const nginxConfig = (prefix: string, ports: ReadonlyArray<number>): string =>
  `worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  server {
${ports.map((port) => `    listen ${HOST}:${port} backlog=4096;`).join("\n")}
    location / { return 200 "ok\\n"; }
  }
}
`;

const startNginx = async (ctx: Context): Promise<{ ports: number[]; stop(): Promise<void> }> => {
  const prefix = join(ctx.tmp, `nginx-${process.hrtime.bigint()}`);
  mkdirSync(prefix, { recursive: true });
  const ports = [await freePort(), await freePort()];
  const config = join(prefix, "nginx.conf");
  writeFileSync(config, nginxConfig(prefix, ports));
  const nginx = spawnTracked(
    "nginx",
    tool(ctx, "nginx"),
    ["-p", prefix, "-c", config, "-e", join(prefix, "error.log")],
    placement(ctx, LOAD_CPU),
  );
  for (const port of ports) {
    try {
      await waitForPort(port, "nginx", () => nginx.child.exitCode === null);
    } catch (error) {
      await nginx.stop();
      throw new Error(`${(error as Error).message}\n${nginx.stderr().trim()}`);
    }
  }
  return { ports, stop: () => nginx.stop() };
};

const MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

export interface WrkReport {
  readonly requestsPerSecond: number;
  readonly requests: number;
  /** Latency percentiles in ms, by percentile ("50", "99"...). */
  readonly latency: Readonly<Record<string, number>>;
  readonly socketErrors: number;
  readonly non2xx: number;
}

/** Reads wrk's text report (with --latency). */
export const parseWrk = (text: string): WrkReport => {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const total = /^\s*(\d+) requests in/m.exec(text);
  if (rps === null || total === null) throw new Error(`wrk: no report\n${text}`);
  const latency: Record<string, number> = {};
  const distribution = text.split("Latency Distribution")[1] ?? "";
  for (const match of distribution.matchAll(/^\s+(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m|h)\s*$/gm))
    latency[match[1] ?? ""] = Number(match[2]) * (MS[match[3] ?? "ms"] ?? 1);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    requestsPerSecond: Number(rps[1]),
    requests: Number(total[1]),
    latency,
    socketErrors: errors === null ? 0 : errors.slice(1).reduce((sum, n) => sum + Number(n), 0),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
  };
};

const http = (name: "rps" | "churn", close: boolean): Scenario => ({
  name,
  title: close ? "wrk, a new connection per request" : "wrk, keep-alive",
  tools: ["wrk", "nginx"],
  metrics: close
    ? [
        { key: "rate", label: "conn/s", better: "higher", perCore: true },
        { key: "p99", label: "p99 ms", better: "lower", perCore: false },
      ]
    : [
        { key: "rate", label: "req/s", better: "higher", perCore: true },
        { key: "p50", label: "p50 ms", better: "lower", perCore: false },
        { key: "p99", label: "p99 ms", better: "lower", perCore: false },
      ],
  applies: () => null,
  prepare: async (ctx) => {
    const nginx = await startNginx(ctx);
    const [primary = 0, fallback = 0] = nginx.ports;
    const seconds = wholeSeconds(ctx.options.seconds);
    const wrk = (port: number, duration: number) =>
      runToEnd(
        "wrk",
        tool(ctx, "wrk"),
        [
          "-t1",
          "-c64",
          `-d${duration}s`,
          "--latency",
          "--timeout",
          "2s",
          ...(close ? ["-H", "Connection: close"] : []),
          `http://${HOST}:${port}/`,
        ],
        placement(ctx, LOAD_CPU),
        (duration + 15) * 1000,
      );
    const pool = new ProxyPool(ctx, { primary, fallback }, (peer) => wrk(peer.port, 1));
    return {
      measure: async (peer) => {
        const target = await pool.get(peer);
        const window = cpuWindow(target.pid);
        const run = await wrk(target.port, seconds);
        const { cpuSeconds, wallSeconds } = window.stop();
        if (run.timedOut) throw new Error("wrk did not finish in time");
        const report = parseWrk(run.stdout);
        if (report.requests === 0) throw new Error(`wrk: no request completed\n${run.stderr}`);
        return {
          figures: {
            rate: report.requestsPerSecond,
            p50: report.latency["50"] ?? null,
            p99: report.latency["99"] ?? null,
          },
          cpuSeconds,
          wallSeconds,
          details: {
            requests: report.requests,
            socketErrors: report.socketErrors,
            non2xx: report.non2xx,
          },
        };
      },
      close: async () => {
        await pool.close();
        await nginx.stop();
      },
    };
  },
});

export const rps = http("rps", false);
export const churn = http("churn", true);
