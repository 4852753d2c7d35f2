/** bulk1, bulk8: iperf3 through the proxy to an iperf3 server, one or eight streams. */
import { type Context, LOAD_CPU, placement, tool } from "../lib/context.js";
import { HOST, freePort, waitForPort } from "../lib/net.js";
import { cpuWindow, runToEnd, spawnTracked } from "../lib/proc.js";
import { type Outcome, ProxyPool, type Scenario, wholeSeconds } from "./scenario.js";

const startIperfServer = async (ctx: Context): Promise<{ port: number; stop(): Promise<void> }> => {
  const port = await freePort();
  const server = spawnTracked(
    "iperf3 server",
    tool(ctx, "iperf3"),
    ["-s", "-p", String(port)],
    placement(ctx, LOAD_CPU),
  );
  // A bare connect makes iperf3 log "unable to receive parameters" and serve the next test: fine.
  await waitForPort(port, "iperf3 server", () => server.child.exitCode === null);
  return { port, stop: () => server.stop() };
};

const path = (value: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>(
    (node, key) =>
      typeof node === "object" && node !== null
        ? (node as Record<string, unknown>)[key]
        : undefined,
    value,
  );

/** Gbit/s received by the server, from iperf3's --json report. */
export const parseIperf = (json: string): number => {
  const report: unknown = JSON.parse(json);
  const error = path(report, "error");
  if (typeof error === "string") throw new Error(`iperf3: ${error}`);
  const bits = path(report, "end", "sum_received", "bits_per_second");
  if (typeof bits !== "number" || !(bits > 0)) throw new Error("iperf3: no received throughput");
  return bits / 1e9;
};

const bulk = (name: "bulk1" | "bulk8", streams: number): Scenario => ({
  name,
  title: `iperf3, ${streams} stream${streams > 1 ? "s" : ""}`,
  tools: ["iperf3"],
  metrics: [{ key: "gbps", label: "Gbit/s", better: "higher", perCore: true }],
  applies: () => null,
  prepare: async (ctx) => {
    const primary = await startIperfServer(ctx);
    const fallback = await startIperfServer(ctx);
    const seconds = wholeSeconds(ctx.options.seconds);
    // iperf3 -t takes whole seconds only (and 0 means forever): shorter runs send a byte count.
    const length =
      ctx.options.seconds < 1
        ? ["-n", `${Math.max(64, Math.round(ctx.options.seconds * 500))}M`]
        : ["-t", String(seconds)];
    const client = (port: number, duration: ReadonlyArray<string>) =>
      runToEnd(
        "iperf3",
        tool(ctx, "iperf3"),
        ["-c", HOST, "-p", String(port), ...duration, "-P", String(streams), "--json"],
        placement(ctx, LOAD_CPU),
        (seconds + 20) * 1000,
      );
    const pool = new ProxyPool(ctx, { primary: primary.port, fallback: fallback.port }, (peer) =>
      client(peer.port, ["-t", "1"]),
    );
    const once = async (port: number, pid: number | null): Promise<Outcome> => {
      const window = cpuWindow(pid);
      const run = await client(port, length);
      const { cpuSeconds, wallSeconds } = window.stop();
      if (run.timedOut) throw new Error("iperf3 did not finish in time");
      return { figures: { gbps: parseIperf(run.stdout) }, cpuSeconds, wallSeconds };
    };
    return {
      measure: async (peer) => {
        const target = await pool.get(peer);
        try {
          return await once(target.port, target.pid);
        } catch (error) {
          // A health check can land on iperf3's listener while it sets up a test and spoil it.
          ctx.log(`  ${peer.name}: ${(error as Error).message}; once more`);
          const outcome = await once(target.port, target.pid);
          return { ...outcome, details: { retried: true } };
        }
      },
      close: async () => {
        await pool.close();
        await primary.stop();
        await fallback.stop();
      },
    };
  },
});

export const bulk1 = bulk("bulk1", 1);
export const bulk8 = bulk("bulk8", 8);
