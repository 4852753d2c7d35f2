/** What a scenario is, and the pool of warm proxies the load scenarios share across rounds. */
import type { Context } from "../lib/context.js";
import type { PeerName, ScenarioName } from "../lib/options.js";
import type { MetricInfo } from "../lib/report.js";
import type { Backends, PeerDef, RunningPeer } from "../peers/peers.js";

export type MetricDef = MetricInfo;

export interface Outcome {
  /** By metric key; null when the figure could not be had (e.g. no failover at all). */
  readonly figures: Readonly<Record<string, number | null>>;
  /** CPU the proxy's process tree used during the measurement, or null without a proxy. */
  readonly cpuSeconds: number | null;
  readonly wallSeconds: number;
  readonly details?: Readonly<Record<string, number | string | boolean | null>>;
}

export interface Prepared {
  measure(peer: PeerDef, round: number): Promise<Outcome>;
  close(): Promise<void>;
}

export interface Scenario {
  readonly name: ScenarioName;
  readonly title: string;
  /** External programs it needs besides the peers'. */
  readonly tools: ReadonlyArray<string>;
  /** The first one is the headline figure; CPU columns go with it. */
  readonly metrics: ReadonlyArray<MetricDef>;
  /** Null if the peer takes part, else why not. */
  applies(peer: PeerDef): string | null;
  prepare(ctx: Context): Promise<Prepared>;
}

export const proxyOnly = (peer: PeerDef): string | null =>
  peer.isProxy ? null : "no proxy process to measure";

/**
 * Proxies started once per scenario and kept warm across its rounds. Each gets one unmeasured
 * load run first (not in smoke runs): a cold first round (JIT, page faults, the kernel still
 * tidying up after the previous scenario) measured up to 2x lower.
 */
export class ProxyPool {
  private readonly running = new Map<PeerName, RunningPeer>();

  constructor(
    private readonly ctx: Context,
    private readonly backends: Backends,
    private readonly warmUp: (peer: RunningPeer) => Promise<unknown>,
  ) {}

  async get(peer: PeerDef): Promise<RunningPeer> {
    const known = this.running.get(peer.name);
    if (known !== undefined) return known;
    const started = await peer.start(this.ctx, this.backends);
    this.running.set(peer.name, started);
    if (!this.ctx.options.smoke) await this.warmUp(started);
    return started;
  }

  async close(): Promise<void> {
    for (const peer of this.running.values()) await peer.stop();
    this.running.clear();
  }
}

/** Whole seconds for tools that take no fractions (iperf3 -t, wrk -d); at least 1. */
export const wholeSeconds = (seconds: number): number => Math.max(1, Math.round(seconds));
