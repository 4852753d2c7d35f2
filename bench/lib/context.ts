/** What every scenario and peer gets from the harness. */
import type { Options } from "./options.js";
import type { Placement } from "./proc.js";

/** The proxy under test runs on one CPU, the load generator and the backends on the other. */
export const PROXY_CPU = 0;
export const LOAD_CPU = 1;

export interface Context {
  readonly options: Options;
  /** Whether processes are pinned with taskset (not with --unpinned or without taskset). */
  readonly pinned: boolean;
  /** Open-file limit for the spawned servers, or null to inherit the harness's. */
  readonly nofile: number | null;
  /** A private temporary directory for configurations, removed at exit. */
  readonly tmp: string;
  /** Absolute paths of the external tools found, by name. */
  readonly tools: ReadonlyMap<string, string>;
  /** Progress on stderr. */
  log(message: string): void;
}

export const placement = (ctx: Context, cpu: number): Placement => ({
  cpu: ctx.pinned ? cpu : null,
  nofile: ctx.nofile,
});

export const tool = (ctx: Context, name: string): string => {
  const path = ctx.tools.get(name);
  if (path === undefined) throw new Error(`${name} is not installed`);
  return path;
};
