/**
 * idle: N connections held open through the proxy, each confirmed by a 1-byte echo; the proxy's
 * memory per connection is (RSS with them - RSS before) / N. A fresh proxy per measurement, so
 * memory freed by an earlier round cannot hide the cost. A second figure, "warm", closes those
 * connections and opens N again: the cost of a connection in a proxy that has run a while
 * (heaps already grown), which is what a long-running proxy pays.
 */
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { EchoBackend, echoConnection } from "../lib/net.js";
import { cpuWindow, treeMemory } from "../lib/proc.js";
import { type Scenario, proxyOnly } from "./scenario.js";

const BATCH = 100;

export const idle: Scenario = {
  name: "idle",
  title: "idle connections held through the proxy",
  tools: [],
  metrics: [
    { key: "rssPerConn", label: "RSS KiB/conn", better: "lower", perCore: false },
    { key: "pssPerConn", label: "PSS KiB/conn", better: "lower", perCore: false },
    { key: "warmRssPerConn", label: "warm RSS KiB/conn", better: "lower", perCore: false },
  ],
  applies: proxyOnly,
  prepare: async (ctx) => {
    const primary = await EchoBackend.start();
    const fallback = await EchoBackend.start();
    const count = ctx.options.idleConnections;
    return {
      measure: async (peer) => {
        const proxy = await peer.start(ctx, { primary: primary.port, fallback: fallback.port });
        const pid = proxy.pid ?? 0;
        const sockets: Socket[] = [];
        let failed = 0;
        const openAll = async (): Promise<void> => {
          for (let opened = 0; opened < count; opened += BATCH) {
            const batch = Array.from({ length: Math.min(BATCH, count - opened) }, () =>
              echoConnection(proxy.port, "x", 5000),
            );
            for (const result of await Promise.allSettled(batch))
              if (result.status === "fulfilled") sockets.push(result.value);
              else failed++;
          }
        };
        try {
          // One round trip first, so start-up work is not billed to the connections.
          (await echoConnection(proxy.port, "w", 5000)).destroy();
          await sleep(100);
          const before = treeMemory(pid);
          const window = cpuWindow(pid);
          await openAll();
          const { cpuSeconds, wallSeconds } = window.stop();
          await sleep(200); // let the proxy settle before reading its memory
          const after = treeMemory(pid);
          const held = sockets.length;
          if (held === 0) throw new Error(`no connection could be opened (${failed} failed)`);
          for (const socket of sockets.splice(0)) socket.destroy();
          await sleep(500); // the proxy sees the closes and frees what it can
          const warmBefore = treeMemory(pid);
          await openAll();
          await sleep(200);
          const warmAfter = treeMemory(pid);
          return {
            figures: {
              rssPerConn: (after.rssKiB - before.rssKiB) / held,
              pssPerConn: (after.pssKiB - before.pssKiB) / held,
              warmRssPerConn: (warmAfter.rssKiB - warmBefore.rssKiB) / Math.max(1, sockets.length),
            },
            cpuSeconds,
            wallSeconds,
            details: {
              held,
              failed,
              rssBeforeKiB: before.rssKiB,
              rssAfterKiB: after.rssKiB,
              pssBeforeKiB: before.pssKiB,
              pssAfterKiB: after.pssKiB,
              processesAfter: after.processes,
              warmRssBeforeKiB: warmBefore.rssKiB,
              warmRssAfterKiB: warmAfter.rssKiB,
            },
          };
        } finally {
          for (const socket of sockets) socket.destroy();
          await proxy.stop();
        }
      },
      close: async () => {
        await primary.close();
        await fallback.close();
      },
    };
  },
};
