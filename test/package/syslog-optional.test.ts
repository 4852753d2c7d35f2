/**
 * unix-dgram is an optional dependency: without it the CLI still runs, and `-syslog` says in one
 * line what is missing. The package is hidden by a resolve hook, as `npm install --omit=optional`
 * (or a failed native build) would leave it.
 */
import test from "ava";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { cliPath } from "../helpers/cli.js";

const withoutUnixDgram = fileURLToPath(
  new URL("../helpers/without-unix-dgram.js", import.meta.url),
);

interface Run {
  readonly exited: Promise<number | null>;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
  /** Resolves once stderr contains `text`, or rejects when the process exits first. */
  saw(text: string): Promise<void>;
}

const runWithoutUnixDgram = (args: ReadonlyArray<string>, broken = false): Run => {
  const child = spawn(process.execPath, ["--import", withoutUnixDgram, cliPath, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, UNIX_DGRAM: broken ? "broken" : "missing" },
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  // "close", not "exit": by then stderr has been read to the end.
  const exited = once(child, "close").then(([code]) => code as number | null);
  return {
    exited,
    stderr: () => stderr,
    kill: (signal) => child.kill(signal),
    saw: (text) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (stderr.includes(text)) resolve();
        };
        child.stderr.on("data", check);
        check();
        void exited.then(() => reject(new Error(`exited before "${text}":\n${stderr}`)));
      }),
  };
};

test("-syslog without unix-dgram: one line naming the flag and what to install, exit 1", async (t) => {
  const run = runWithoutUnixDgram(["-syslog", "127.0.0.1:0", "127.0.0.1:1"]);
  t.teardown(() => run.kill("SIGKILL"));
  t.is(await run.exited, 1);
  t.is(
    run.stderr(),
    "tcp-fallback: -syslog needs the optional package unix-dgram, which is not installed " +
      "(npm install unix-dgram; it builds a native module with python3, make and a C++ compiler)\n",
  );
});

test("-syslog with a unix-dgram that fails to load: one line with its reason and the fix, exit 1", async (t) => {
  const run = runWithoutUnixDgram(["-syslog", "127.0.0.1:0", "127.0.0.1:1"], true);
  t.teardown(() => run.kill("SIGKILL"));
  t.is(await run.exited, 1);
  t.is(
    run.stderr(),
    "tcp-fallback: -syslog needs the optional package unix-dgram, which failed to load: The " +
      "module unix_dgram.node was compiled against a different Node.js version. " +
      "(npm rebuild unix-dgram)\n",
  );
});

test("without unix-dgram, the CLI without -syslog starts and stops as usual", async (t) => {
  const run = runWithoutUnixDgram(["127.0.0.1:0", "127.0.0.1:1"]);
  t.teardown(() => run.kill("SIGKILL"));
  await run.saw("Listening on 127.0.0.1:");
  run.kill("SIGTERM");
  t.is(await run.exited, 0);
  t.notRegex(run.stderr(), /unix-dgram/);
});
