/** The machine a run was measured on, stored with its results. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, release } from "node:os";

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly node: string;
  readonly kernel: string;
  readonly date: string;
  /** First line of each external tool's version output, by tool. */
  readonly tools: Readonly<Record<string, string>>;
}

const VERSION_ARGS: Readonly<Record<string, ReadonlyArray<string>>> = {
  haproxy: ["-v"],
  socat: ["-V"],
  iperf3: ["-v"],
  wrk: ["-v"],
  nginx: ["-v"],
};

const firstLine = (path: string, args: ReadonlyArray<string>): string => {
  const result = spawnSync(path, args, { encoding: "utf8", timeout: 5000 });
  const text = `${result.stdout ?? ""}\n${result.stderr ?? ""}`;
  return (
    text
      .split("\n")
      .map((line) => line.trim())
      .find((line) => /\d+\.\d+/.test(line) && !/^socat by/.test(line)) ?? "unknown"
  );
};

export const describeMachine = (tools: ReadonlyMap<string, string>): Machine => {
  let cpuModel = "unknown";
  try {
    cpuModel =
      /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ??
      cpuModel;
  } catch {
    // not Linux
  }
  const versions: Record<string, string> = {};
  for (const [name, path] of tools)
    if (VERSION_ARGS[name] !== undefined) versions[name] = firstLine(path, VERSION_ARGS[name]);
  return {
    cpuModel,
    cores: cpus().length, // all online CPUs, not the ones this process is pinned to
    node: process.version,
    kernel: release(),
    date: new Date().toISOString(),
    tools: versions,
  };
};
