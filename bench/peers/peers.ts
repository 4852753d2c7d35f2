/**
 * The peers measured side by side: no proxy at all (the limit), HAProxy, socat, a naive Node
 * proxy, tcp-fallback, and optionally another build of tcp-fallback (the baseline). Each proxy listens on a free loopback port in front of a primary and,
 * where it has the notion, a fallback backend.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Context, PROXY_CPU, placement, tool } from "../lib/context.js";
import { HOST, freePort, waitForPort } from "../lib/net.js";
import type { PeerName } from "../lib/options.js";
import { type Spawned, spawnTracked } from "../lib/proc.js";

export interface Backends {
  readonly primary: number;
  readonly fallback: number;
}

export interface RunningPeer {
  readonly name: PeerName;
  /** Where clients connect: the proxy, or the primary itself for `direct`. */
  readonly port: number;
  /** The proxy's process (the root of its tree), or null for `direct`. */
  readonly pid: number | null;
  stop(): Promise<void>;
}

export interface PeerDef {
  readonly name: PeerName;
  /** The external program it needs, or null. */
  readonly tool: string | null;
  /** Whether it moves clients to a fallback backend when the primary fails. */
  readonly hasFallback: boolean;
  /** False for `direct`, which has no process of its own. */
  readonly isProxy: boolean;
  start(ctx: Context, backends: Backends): Promise<RunningPeer>;
}

const cliPath = fileURLToPath(new URL("../../src/cli.js", import.meta.url));
const naivePath = fileURLToPath(new URL("./naive-proxy.js", import.meta.url));

/** Spawns a proxy on the proxy CPU and waits until it accepts connections. */
const launch = async (
  ctx: Context,
  name: PeerName,
  port: number,
  command: string,
  args: ReadonlyArray<string>,
): Promise<RunningPeer> => {
  const spawned: Spawned = spawnTracked(name, command, args, placement(ctx, PROXY_CPU));
  try {
    await waitForPort(port, name, () => spawned.child.exitCode === null);
  } catch (error) {
    await spawned.stop();
    throw new Error(`${(error as Error).message}\n${spawned.stderr().trim()}`);
  }
  return { name, port, pid: spawned.pid, stop: () => spawned.stop() };
};

const haproxyConfig = (port: number, backends: Backends, maxconn: number): string =>
  [
    "global",
    "  nbthread 1",
    `  maxconn ${maxconn}`,
    "defaults",
    "  mode tcp",
    "  timeout connect 1s",
    "  timeout client 5m",
    "  timeout server 5m",
    "listen bench",
    `  bind ${HOST}:${port}`,
    `  server primary ${HOST}:${backends.primary} check inter 1s`,
    `  server fallback ${HOST}:${backends.fallback} check inter 1s backup`,
    "",
  ].join("\n");

/** The CLI of another built checkout, given with --baseline. */
export const baselineCli = (dir: string): string => join(dir, "dist", "src", "cli.js");

/** tcp-fallback, this checkout's or the baseline's, with the same flags. */
const tcpFallbackPeer = (
  name: "tcp-fallback" | "baseline",
  cli: (ctx: Context) => string,
): PeerDef => ({
  name,
  tool: null,
  hasFallback: true,
  isProxy: true,
  start: async (ctx, backends) => {
    const port = await freePort();
    // Run as the installed command runs: the file itself, with the node flags of its first line.
    return launch(ctx, name, port, cli(ctx), [
      "-quiet",
      "-stats=0",
      // The same detection budget as HAProxy's `inter 1s` and `timeout connect 1s`.
      "-probe-delay=1s",
      "-timeout=1s",
      ...(name === "baseline"
        ? (ctx.options.baselineArgs ?? ctx.options.tfArgs)
        : ctx.options.tfArgs),
      `${HOST}:${port}`,
      `${HOST}:${backends.primary}`,
      `${HOST}:${backends.fallback}`,
    ]);
  },
});

export const PEER_DEFS: ReadonlyArray<PeerDef> = [
  {
    name: "direct",
    tool: null,
    hasFallback: false,
    isProxy: false,
    start: async (_ctx, backends) => ({
      name: "direct",
      port: backends.primary,
      pid: null,
      stop: async () => undefined,
    }),
  },
  {
    name: "haproxy",
    tool: "haproxy",
    hasFallback: true,
    isProxy: true,
    start: async (ctx, backends) => {
      const port = await freePort();
      const file = join(ctx.tmp, `haproxy-${port}.cfg`);
      // Two descriptors per connection, and some to spare, within the limit it will get.
      const maxconn = Math.max(1000, Math.floor(((ctx.nofile ?? 20000) - 200) / 2));
      writeFileSync(file, haproxyConfig(port, backends, maxconn));
      return launch(ctx, "haproxy", port, tool(ctx, "haproxy"), ["-db", "-f", file]);
    },
  },
  {
    name: "socat",
    tool: "socat",
    hasFallback: false,
    isProxy: true,
    start: async (ctx, backends) => {
      const port = await freePort();
      // backlog: socat's default of 5 would drop SYNs under 64 concurrent clients.
      return launch(ctx, "socat", port, tool(ctx, "socat"), [
        `TCP-LISTEN:${port},bind=${HOST},fork,reuseaddr,backlog=1024`,
        `TCP:${HOST}:${backends.primary}`,
      ]);
    },
  },
  {
    name: "naive",
    tool: null,
    hasFallback: false,
    isProxy: true,
    start: async (ctx, backends) => {
      const port = await freePort();
      return launch(ctx, "naive", port, process.execPath, [
        naivePath,
        String(port),
        String(backends.primary),
      ]);
    },
  },
  tcpFallbackPeer("tcp-fallback", () => cliPath),
  tcpFallbackPeer("baseline", (ctx) => {
    if (ctx.options.baseline === undefined) throw new Error("no --baseline given");
    return baselineCli(ctx.options.baseline);
  }),
];
