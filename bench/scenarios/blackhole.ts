/**
 * blackhole, blackhole-hedged: the primary is black-holed (connects hang, nothing refuses) and the
 * fallback works; a stream of new clients starts as the proxy does (one every 5 ms for 1.5 s,
 * each an 8-byte echo with a 5 s budget). The figure is each client's latency from its connect
 * to the echo's first byte, as percentiles. Until the proxy has judged the primary (a connect
 * timeout, 1 s here, for the first client or the start-up check), a client waits for the primary
 * first: without hedging up to the whole timeout, with -hedge only that long before the
 * fallback is dialed too.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { BlackHole } from "../lib/black-hole.js";
import type { Context } from "../lib/context.js";
import { EchoBackend, TOKEN_BYTES, echoConnection } from "../lib/net.js";
import { cpuWindow } from "../lib/proc.js";
import type { ScenarioName } from "../lib/options.js";
import type { PeerDef } from "../peers/peers.js";
import type { Scenario } from "./scenario.js";

const INTERVAL_MS = 5;
const CLIENT_TIMEOUT_MS = 5_000;
/** Hedge delay of the hedged variant. */
export const HEDGE = "20ms";

/** The value at percentile `p` (0-100) of sorted values, nearest rank; null if none. */
export const percentile = (sorted: ReadonlyArray<number>, p: number): number | null =>
  sorted.length === 0
    ? null
    : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ??
      null);

const round2 = (ms: number | null): number | null =>
  ms === null ? null : Math.round(ms * 100) / 100;

const withArgs = (ctx: Context, extra: ReadonlyArray<string>): Context => ({
  ...ctx,
  options: { ...ctx.options, tfArgs: [...ctx.options.tfArgs, ...extra] },
});

const blackhole = (
  name: ScenarioName,
  title: string,
  extra: ReadonlyArray<string>,
  applies: (peer: PeerDef) => string | null,
): Scenario => ({
  name,
  title,
  tools: ["python3"],
  metrics: [
    { key: "p99", label: "p99 ms", better: "lower", perCore: false },
    { key: "p50", label: "p50 ms", better: "lower", perCore: false },
    { key: "failed", label: "failed clients", better: "lower", perCore: false },
  ],
  applies,
  prepare: async (ctx) => ({
    measure: async (peer) => {
      const hole = await BlackHole.start(ctx);
      const fallback = await EchoBackend.start();
      const windowMs = ctx.options.smoke ? 400 : 1_500;
      try {
        const proxy = await peer.start(withArgs(ctx, extra), {
          primary: hole.port,
          fallback: fallback.port,
        });
        try {
          const latencies: number[] = [];
          const errors = new Map<string, number>();
          const pending: Array<Promise<void>> = [];
          let counter = 0;
          const launch = (): void => {
            const token = (counter++).toString(36).padStart(TOKEN_BYTES, "0");
            const started = performance.now();
            pending.push(
              echoConnection(proxy.port, token, CLIENT_TIMEOUT_MS).then(
                (socket) => {
                  latencies.push(performance.now() - started);
                  socket.destroy();
                },
                (error: Error) =>
                  void errors.set(error.message, (errors.get(error.message) ?? 0) + 1),
              ),
            );
          };
          const window = cpuWindow(proxy.pid);
          const stream = setInterval(launch, INTERVAL_MS);
          launch();
          await sleep(windowMs);
          clearInterval(stream);
          // Every client has its own budget: all are in by then.
          await Promise.all(pending);
          const { cpuSeconds, wallSeconds } = window.stop();
          const sorted = [...latencies].sort((a, b) => a - b);
          const failed = [...errors.values()].reduce((a, b) => a + b, 0);
          return {
            figures: {
              p99: round2(percentile(sorted, 99)),
              p50: round2(percentile(sorted, 50)),
              failed,
            },
            cpuSeconds,
            wallSeconds,
            details: {
              clients: counter,
              max: round2(sorted.at(-1) ?? null),
              // Clients that waited for the primary at least 10x the hedge delay.
              over200ms: sorted.filter((ms) => ms > 200).length,
              errors: [...errors].map(([error, n]) => `${error}: ${n}`).join(", "),
            },
          };
        } finally {
          await proxy.stop();
        }
      } finally {
        await fallback.close();
        await hole.close();
      }
    },
    close: async () => undefined,
  }),
});

export const blackholePlain: Scenario = blackhole(
  "blackhole",
  "black-holed primary: connect-to-first-byte latency of new clients",
  [],
  (peer) => (peer.hasFallback ? null : "no fallback backend"),
);

export const blackholeHedged: Scenario = blackhole(
  "blackhole-hedged",
  `the same with -hedge=${HEDGE}`,
  [`-hedge=${HEDGE}`],
  (peer) => (peer.name === "tcp-fallback" ? null : "no -hedge"),
);
