import { spawn } from "node:child_process";
import {
  type ChangeNotice,
  describeNotice,
  noticeEnv,
  noticeJsonLine,
} from "../domain/change-notice.js";
import { formatDuration } from "../domain/duration.js";
import type { Logger } from "../domain/logger.js";

export interface HookRunnerOptions {
  /** A run still going after this long gets SIGTERM, then SIGKILL after killGraceMs. */
  readonly timeoutMs: number;
  readonly killGraceMs?: number;
  /** Notices waiting beyond this many drop the oldest (counted in the log). */
  readonly maxQueued?: number;
}

export interface HookRunner {
  /** Queues a run for this notice; runs go one at a time, in order. */
  run(notice: ChangeNotice): void;
  /** Takes no more notices, drops the waiting ones and waits (bounded) for the running one. */
  close(): Promise<void>;
}

export const DEFAULT_HOOK_TIMEOUT_MS = 10_000;
const DEFAULT_KILL_GRACE_MS = 2_000;
const DEFAULT_MAX_QUEUED = 1000;
/** Enough stderr for a first line; the rest is read and thrown away. */
const MAX_STDERR_BYTES = 4096;
const MAX_LINE_CHARS = 300;
/** How long stderr may stay open after the hook exited. */
const STDERR_AFTER_EXIT_MS = 200;

const firstLine = (stderr: Buffer): string => {
  const line =
    stderr
      .toString("utf8")
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? "";
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}...` : line;
};

/**
 * Runs `argv` (no shell) once per notice, one run at a time: the notice as one JSON line on its
 * stdin and as TCP_FALLBACK_* variables; every run is bounded and its outcome logged. A hook that
 * fails, hangs or is missing is logged, never thrown: it must not stop the proxy.
 */
export const startHookRunner = (
  argv: ReadonlyArray<string>,
  logger: Logger,
  options: HookRunnerOptions,
): HookRunner => {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error("startHookRunner: an empty command");
  const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  const queue: ChangeNotice[] = [];
  let dropped = 0;
  let running: Promise<void> | null = null;
  let closed = false;

  const runOne = (notice: ChangeNotice): Promise<void> =>
    new Promise<void>((resolve) => {
      const what = describeNotice(notice);
      let settled = false;
      let timedOut = false;
      let stderrBytes = 0;
      const stderr: Buffer[] = [];
      const child = spawn(program, args, {
        stdio: ["pipe", "ignore", "pipe"],
        env: { ...process.env, ...noticeEnv(notice) },
      });
      const timers: NodeJS.Timeout[] = [];
      const done = (message: string, level: "info" | "warn"): void => {
        if (settled) return;
        settled = true;
        for (const timer of timers) clearTimeout(timer);
        logger[level](message);
        resolve();
      };
      timers.push(
        setTimeout(() => {
          timedOut = true;
          child.kill("SIGTERM");
          timers.push(setTimeout(() => child.kill("SIGKILL"), killGraceMs));
        }, options.timeoutMs),
      );
      // A hook that does not read its stdin (or has exited) must not fail the write loudly.
      child.stdin.on("error", () => undefined);
      child.stdin.end(noticeJsonLine(notice));
      child.stderr.on("data", (chunk: Buffer) => {
        if (stderrBytes >= MAX_STDERR_BYTES) return;
        const kept = chunk.subarray(0, MAX_STDERR_BYTES - stderrBytes);
        stderr.push(kept);
        stderrBytes += kept.length;
      });
      child.on("error", (error) =>
        done(`Hook could not run for ${what}: ${error.message}`, "warn"),
      );
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        const said = firstLine(Buffer.concat(stderr));
        const tail = said === "" ? "" : `: ${said}`;
        child.stderr.destroy();
        if (timedOut)
          done(
            `Hook timed out after ${formatDuration(options.timeoutMs)} for ${what}${tail}`,
            "warn",
          );
        else if (code === 0) done(`Hook exited 0 for ${what}`, "info");
        else
          done(
            `Hook failed (${code === null ? `signal ${signal ?? "?"}` : `exit ${code}`}) for ${what}${tail}`,
            "warn",
          );
      };
      child.on("close", finish);
      // Something the hook started in the background may hold stderr open: do not wait for it.
      child.on("exit", (code, signal) => {
        if (!settled) timers.push(setTimeout(() => finish(code, signal), STDERR_AFTER_EXIT_MS));
      });
    });

  const drainQueue = async (): Promise<void> => {
    for (let notice = queue.shift(); notice !== undefined; notice = queue.shift()) {
      if (dropped > 0) {
        logger.warn(`Hook queue full: dropped the ${dropped} oldest notices`);
        dropped = 0;
      }
      await runOne(notice);
    }
    running = null;
  };

  return {
    run: (notice) => {
      if (closed) return;
      queue.push(notice);
      if (queue.length > maxQueued) {
        queue.shift();
        dropped++;
      }
      running ??= drainQueue();
    },
    close: async () => {
      closed = true;
      if (queue.length > 0) logger.warn(`Hook: ${queue.length} notices not run at close`);
      queue.length = 0;
      await running;
    },
  };
};
