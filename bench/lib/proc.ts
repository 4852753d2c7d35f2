/**
 * Child processes of the benchmark and what the kernel says about them (/proc): every child is
 * tracked and its whole process tree is killed on exit, errors and signals included.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Finds an executable on PATH and in the sbin directories, where haproxy and nginx live. */
export const which = (name: string): string | undefined => {
  const dirs = [...(process.env["PATH"] ?? "").split(":"), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const dir of dirs.filter((d) => d !== "")) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
};

export interface Placement {
  /** CPU to pin to with taskset, or null for no pinning. */
  readonly cpu: number | null;
  /** Open-file limit to apply with prlimit, or null to inherit ours. */
  readonly nofile: number | null;
}

export interface Spawned {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout so far (kept whole: it carries the load generators' reports). */
  stdout(): string;
  /** The last 16 KiB of stderr, for error messages. */
  stderr(): string;
  readonly exited: Promise<number | null>;
  /** Kills the process and everything it forked; resolves once it has exited. */
  stop(): Promise<void>;
}

const tracked = new Set<Spawned>();

/** Not yet exited: its pid cannot have been reused, so signalling it is safe. */
const running = (child: ChildProcess): boolean =>
  child.pid !== undefined && child.exitCode === null && child.signalCode === null;

/**
 * Spawns `command` through prlimit and taskset (both exec, so the pid is the command's own).
 * Never detached: the load generator and the backends stay in the harness's session, since the
 * scheduler groups processes by session and split groups on one CPU slowed round trips.
 */
export const spawnTracked = (
  name: string,
  command: string,
  args: ReadonlyArray<string>,
  placement: Placement,
): Spawned => {
  const prefix: string[] = [];
  if (placement.nofile !== null)
    prefix.push("prlimit", `--nofile=${placement.nofile}:${placement.nofile}`);
  if (placement.cpu !== null) prefix.push("taskset", "-c", String(placement.cpu));
  const argv = [...prefix, command, ...args];
  const child = spawn(argv[0] ?? command, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (err = (err + chunk.toString()).slice(-16384)));
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? (signal === null ? null : -1)));
    child.once("error", (error) => {
      err += String(error);
      resolve(-1);
    });
  });
  const spawned: Spawned = {
    name,
    child,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async () => {
      if (running(child)) killTree(spawned.pid);
      await exited;
      tracked.delete(spawned);
    },
  };
  tracked.add(spawned);
  void exited.then(() => tracked.delete(spawned));
  return spawned;
};

/** Runs a command to its end, killing it after `limitMs` so no load loop can outlive its budget. */
export const runToEnd = async (
  name: string,
  command: string,
  args: ReadonlyArray<string>,
  placement: Placement,
  limitMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> => {
  const spawned = spawnTracked(name, command, args, placement);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (running(spawned.child)) killTree(spawned.pid);
  }, limitMs);
  const code = await spawned.exited;
  clearTimeout(timer);
  return { code, stdout: spawned.stdout(), stderr: spawned.stderr(), timedOut };
};

interface StatLine {
  readonly ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  readonly ticks: number;
}

const readStat = (pid: number): StatLine | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const num = (i: number): number => Number(fields[i] ?? 0);
    return { ppid: num(1), ticks: num(11) + num(12) + num(13) + num(14) };
  } catch {
    return undefined; // gone meanwhile
  }
};

/** `pid` and all its live descendants. */
export const processTree = (pid: number): number[] => {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat === undefined) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
};

const clockTicks = ((): number => {
  const result = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const ticks = Number(result.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
})();

/**
 * CPU seconds used so far by `pid`'s tree: utime+stime of every live process plus the cutime+cstime
 * of the children it reaped (a forking peer's finished connections), so before/after deltas add up.
 */
export const treeCpuSeconds = (pid: number): number =>
  processTree(pid).reduce((sum, p) => sum + (readStat(p)?.ticks ?? 0), 0) / clockTicks;

const statusField = (path: string, field: string): number => {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(path, "utf8"));
    return Number(match?.[1] ?? 0);
  } catch {
    return 0;
  }
};

export interface Memory {
  /** Sum of VmRSS over the tree, KiB (shared pages count once per process). */
  readonly rssKiB: number;
  /** Sum of Pss over the tree, KiB (shared pages split between processes). */
  readonly pssKiB: number;
  readonly processes: number;
}

export const treeMemory = (pid: number): Memory => {
  const tree = processTree(pid);
  return {
    rssKiB: tree.reduce((sum, p) => sum + statusField(`/proc/${p}/status`, "VmRSS"), 0),
    pssKiB: tree.reduce((sum, p) => sum + statusField(`/proc/${p}/smaps_rollup`, "Pss"), 0),
    processes: tree.length,
  };
};

/** Measures the CPU a process tree used and the wall time between start and stop. */
export const cpuWindow = (
  pid: number | null,
): { stop(): { cpuSeconds: number | null; wallSeconds: number } } => {
  const before = pid === null ? 0 : treeCpuSeconds(pid);
  const started = process.hrtime.bigint();
  return {
    stop: () => {
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      const cpuSeconds =
        pid === null ? null : Math.round((treeCpuSeconds(pid) - before) * 1000) / 1000;
      return { cpuSeconds, wallSeconds };
    },
  };
};

/**
 * SIGKILLs a process and its descendants. The root is stopped first and killed first: killing a
 * child first let nginx's master respawn a worker that then outlived it.
 */
export const killTree = (pid: number): void => {
  if (pid <= 0) return;
  try {
    process.kill(pid, "SIGSTOP");
  } catch {
    return; // already gone
  }
  for (const p of processTree(pid)) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // already gone
    }
  }
};

/** Kills every child still alive; synchronous, so it also works in an 'exit' handler. */
export const killAll = (): void => {
  for (const spawned of tracked) if (running(spawned.child)) killTree(spawned.pid);
  tracked.clear();
};

export const openFileLimits = (): { soft: number; hard: number } => {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
  const parse = (value: string | undefined): number =>
    value === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(value ?? 1024);
  return { soft: parse(line?.[1]), hard: parse(line?.[2]) };
};

/** Whether prlimit may raise a child's open-file limit to `wanted` (needs CAP_SYS_RESOURCE). */
export const canRaiseNofile = (wanted: number): boolean =>
  which("prlimit") !== undefined &&
  spawnSync("prlimit", [`--nofile=${wanted}:${wanted}`, "true"]).status === 0;

/** Pins this process (all its threads) to `cpu`; children inherit it unless placed elsewhere. */
export const pinSelf = (cpu: number): boolean =>
  spawnSync("taskset", ["-a", "-p", "-c", String(cpu), String(process.pid)]).status === 0;
