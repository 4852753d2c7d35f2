import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connectTo, readAll } from "./net.js";

/** dist/src/cli.js, next to this compiled helper's dist/test/helpers. */
export const cliPath = fileURLToPath(new URL("../../src/cli.js", import.meta.url));

export interface CliRun {
  readonly child: ChildProcess;
  /** Resolves with the nth (default first) stderr line matching `pattern`, lines seen so far included. */
  line(pattern: RegExp, nth?: number): Promise<string>;
  /** Everything written to stderr so far. */
  stderr(): string;
  stdout(): string;
  /**
   * Resolves with the exit code once the process has exited and, unless it runs in its own
   * group (with workers), once its output has all been read.
   */
  readonly exited: Promise<number | null>;
  /**
   * Resolves once stdout and stderr are closed: every process that held them, workers too, has
   * exited (workers inherit them from the primary).
   */
  readonly closed: Promise<void>;
}

export interface CliSpawnOptions {
  /** Options for node itself, before the program (e.g. `--import`). */
  readonly nodeArgs?: ReadonlyArray<string>;
  /** Run in a process group of its own (its pid is the group id): to signal it and its workers. */
  readonly ownGroup?: boolean;
}

/** Runs the CLI with `args`; the caller must end it (or it ends by itself). */
export const runCli = (args: ReadonlyArray<string>, options: CliSpawnOptions = {}): CliRun => {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), cliPath, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.ownGroup ?? false,
  });
  let err = "";
  let out = "";
  const waiters: Array<{ pattern: RegExp; nth: number; resolve: (line: string) => void }> = [];
  const check = (): void => {
    for (const waiter of [...waiters]) {
      const found = err.split("\n").filter((l) => waiter.pattern.test(l))[waiter.nth - 1];
      if (found !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(found);
      }
    }
  };
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
    check();
  });
  child.stdout?.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const closed = once(child, "close").then(() => undefined);
  // Output can still be in the pipes at "exit": a single process has it all once they close.
  // A run in its own group may have workers holding them after the primary is gone.
  const exitCode = once(child, "exit").then(([code]) => code as number | null);
  const exited = options.ownGroup === true ? exitCode : closed.then(() => exitCode);
  return {
    child,
    line: (pattern, nth = 1) =>
      new Promise((resolve, reject) => {
        waiters.push({ pattern, nth, resolve });
        check();
        void exited.then(() =>
          reject(new Error(`exited before a line matched ${pattern}:\n${err}`)),
        );
      }),
    stderr: () => err,
    stdout: () => out,
    exited,
    closed,
  };
};

/** What a crash prints: a stack frame, an error's first line, Node's unhandled-error banner. */
export const stackTrace = /Unhandled '?error|^\s+at |^\w*Error\b.*:|^Node\.js v\d/m;

/** Live processes (zombies do not count) whose process group is `group`, from /proc. */
export const groupMembers = async (group: number): Promise<number[]> => {
  const members: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // After the command name (which may hold spaces): state, parent pid, process group.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (state !== "Z" && Number(pgrp) === group) members.push(Number(entry));
  }
  return members;
};

export interface ModuleLog {
  /** Node options that make a run record what it loads. */
  readonly nodeArgs: ReadonlyArray<string>;
  /** Every URL the run resolved so far: files, packages, node: built-ins. */
  urls(): Promise<string[]>;
  /** The same, per process (by pid). */
  urlsByProcess(): Promise<Map<number, string[]>>;
  remove(): Promise<void>;
}

/** Records the modules a CLI run loads (through the hooks in ./module-log-hooks.ts). */
export const moduleLog = async (): Promise<ModuleLog> => {
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-modules-"));
  const path = join(dir, "modules.log");
  const hooks = new URL("./module-log-hooks.js", import.meta.url).href;
  const registration = `import { register } from "node:module"; register(${JSON.stringify(hooks)}, { data: ${JSON.stringify(path)} });`;
  const entries = async (): Promise<Array<[number, string]>> =>
    (await readFile(path, "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const space = line.indexOf(" ");
        return [Number(line.slice(0, space)), line.slice(space + 1)];
      });
  return {
    nodeArgs: ["--import", `data:text/javascript,${encodeURIComponent(registration)}`],
    urls: async () => (await entries()).map(([, url]) => url),
    urlsByProcess: async () => {
      const byPid = new Map<number, string[]>();
      for (const [pid, url] of await entries()) byPid.set(pid, [...(byPid.get(pid) ?? []), url]);
      return byPid;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
};

/** Starts the CLI listening on an ephemeral loopback port and resolves with that port. */
export const listeningPort = async (run: CliRun): Promise<number> => {
  const line = await run.line(/Listening on /);
  return Number(/:(\d+)$/.exec(line)?.[1]);
};

/**
 * Opens a connection through the CLI (which must run with -debug), writes `first`, and once the
 * proxy has relayed it, sends SIGTERM and waits for the drain to begin. Returns the connection
 * and its whole reply.
 */
export const connectionDuringDrain = async (
  run: CliRun,
  port: number,
  first: string,
): Promise<{ live: Socket; reply: Promise<Buffer> }> => {
  const live = await connectTo(port);
  live.write(first);
  const reply = readAll(live);
  await run.line(/DEBUG Connection .* opened/);
  run.child.kill("SIGTERM");
  await run.line(/Draining 1 connection/);
  return { live, reply };
};
