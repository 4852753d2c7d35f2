import test from "ava";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBackends } from "../../src/domain/backend.js";
import type { ChangeNotice } from "../../src/domain/change-notice.js";
import type { Logger } from "../../src/domain/logger.js";
import { startHookRunner } from "../../src/adapters/hook-runner.js";

const [A, B] = makeBackends([
  { host: "127.0.0.1", port: 7001 },
  { host: "127.0.0.1", port: 7002 },
]) as [ReturnType<typeof makeBackends>[number], ReturnType<typeof makeBackends>[number]];

const down = (at: number): ChangeNotice => ({
  type: "backend-down",
  backend: A,
  reason: "refused",
  at,
  route: [B],
});

const recording = () => {
  const lines: string[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: (m) => lines.push(m),
    warn: (m) => lines.push(m),
    error: (m) => lines.push(m),
    debugEnabled: false,
  };
  return { lines, logger };
};

const script = async (
  t: { teardown(fn: () => Promise<void>): void },
  body: string,
): Promise<{ path: string; dir: string }> => {
  const dir = await mkdtemp(join(tmpdir(), "hook-runner-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "hook.sh");
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return { path, dir };
};

test("a hook that outlives its timeout is killed and logged; close waits only for the running one", async (t) => {
  const { path, dir } = await script(
    t,
    `read line\necho "$line" >> "$(dirname "$0")/out"\nexec sleep 30`,
  );
  const { lines, logger } = recording();
  const runner = startHookRunner([path], logger, { timeoutMs: 300 });
  const started = Date.now();
  runner.run(down(0));
  runner.run(down(1000));
  await runner.close();
  // close() dropped the second: it waits only for the running one.
  t.true(Date.now() - started < 5000);
  t.deepEqual(lines, [
    "Hook: 1 notices not run at close",
    "Hook timed out after 300ms for backend-down 127.0.0.1:7001",
  ]);
  t.is((await readFile(join(dir, "out"), "utf8")).split("\n").filter(Boolean).length, 1);
});

test("runs go one at a time, in order, and a full queue drops the oldest with a count", async (t) => {
  const { path, dir } = await script(t, `cat >> "$(dirname "$0")/out"`);
  const { lines, logger } = recording();
  const runner = startHookRunner([path], logger, { timeoutMs: 5000, maxQueued: 2 });
  for (let at = 0; at < 5; at++) runner.run(down(at * 1000));
  // The first started at once; of the four waiting, two fit.
  await new Promise<void>((resolve) => {
    const poll = (): void => {
      if (lines.filter((l) => l.startsWith("Hook exited 0")).length >= 3) resolve();
      else setTimeout(poll, 20);
    };
    poll();
  });
  await runner.close();
  const ats = (await readFile(join(dir, "out"), "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { at: string }).at);
  t.deepEqual(
    ats,
    [0, 3000, 4000].map((ms) => new Date(ms).toISOString()),
  );
  t.true(lines.includes("Hook queue full: dropped the 2 oldest notices"));
});

test("a hook killed by a signal of its own is logged with the signal", async (t) => {
  const { path } = await script(t, "kill -9 $$");
  const { lines, logger } = recording();
  const runner = startHookRunner([path], logger, { timeoutMs: 5000 });
  runner.run(down(0));
  await new Promise((resolve) => setTimeout(resolve, 0));
  await runner.close();
  t.deepEqual(lines, ["Hook failed (signal SIGKILL) for backend-down 127.0.0.1:7001"]);
});
