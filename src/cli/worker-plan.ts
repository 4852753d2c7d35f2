/** How many processes serve: one, or a primary with workers, from -workers and -maxthreads. */
import type { RunOptions } from "./run-options.js";

/** How many processes serve, and what the log says about it. */
export interface WorkerPlan {
  /** Worker processes; 1 runs everything in one process. */
  readonly count: number;
  /** How many run and which flag decided; absent when no flag asked for workers. */
  readonly note: string | undefined;
  /** Set when -workers asks for more workers than there are CPUs. */
  readonly warning: string | undefined;
}

/**
 * The worker count from -workers, else -maxthreads (the original's thread cap, which old
 * command lines carry at 4 or more: it allows no more workers than CPUs), else one process.
 */
export const workerPlan = (
  options: Pick<RunOptions, "workers" | "maxthreads">,
  cpus: number,
): WorkerPlan => {
  const { workers, maxthreads } = options;
  // The count, the flag that decided it, and whether that flag asked for more than one process.
  const [count, flag, askedForMore]: [number, string | undefined, boolean] =
    workers === "auto"
      ? [cpus, "-workers=auto", true]
      : workers !== undefined
        ? [workers, `-workers=${workers}`, workers > 1]
        : maxthreads !== undefined
          ? [Math.min(maxthreads, cpus), `-maxthreads=${maxthreads}`, maxthreads > 1]
          : [1, undefined, false];
  const cpuText = `${cpus} CPU${cpus === 1 ? "" : "s"}`;
  const why = `(${flag}, ${cpuText})`;
  return {
    count,
    note:
      count > 1
        ? `Starting ${count} worker processes ${why}`
        : askedForMore
          ? `Running in one process ${why}`
          : undefined,
    warning:
      typeof workers === "number" && workers > cpus
        ? `-workers=${workers} is more than the ${cpuText}: workers will share CPUs`
        : undefined,
  };
};
