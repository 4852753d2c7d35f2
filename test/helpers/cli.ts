import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import type { Socket } from "node:net";
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
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
}

/** Runs the CLI with `args`; the caller must end it (or it ends by itself). */
export const runCli = (args: ReadonlyArray<string>): CliRun => {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
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
  const exited = once(child, "exit").then(([code]) => code as number | null);
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
