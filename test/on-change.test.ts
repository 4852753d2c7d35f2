import test from "ava";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFallbackProxy } from "../src/index.js";
import type { Logger } from "../src/domain/logger.js";
import type { ProbeResult } from "../src/domain/probe.js";
import { runCli } from "./helpers/cli.js";
import { roundTrip, startBackend } from "./helpers/net.js";

/** A temp dir with `name` holding a shell script; removed at teardown. */
const scriptDir = async (
  t: { teardown(fn: () => Promise<void>): void },
  body: (out: string) => string,
): Promise<{ script: string; out: string }> => {
  const dir = await mkdtemp(join(tmpdir(), "on-change-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, "out");
  const script = join(dir, "hook.sh");
  await writeFile(script, `#!/bin/sh\n${body(out)}\n`);
  await chmod(script, 0o755);
  return { script, out };
};

// One line per run: the variables, then the JSON line from stdin.
const RECORDER = (out: string): string =>
  `{ printf '%s|%s|%s|%s|%s|' "$TCP_FALLBACK_EVENT" "$TCP_FALLBACK_BACKEND" "$TCP_FALLBACK_BACKEND_INDEX" "$TCP_FALLBACK_REASON" "$TCP_FALLBACK_ROUTE"; cat; } >> '${out}'`;

interface Run {
  readonly env: ReadonlyArray<string>;
  readonly json: Record<string, unknown>;
}

const runsIn = async (out: string): Promise<Run[]> =>
  (await readFile(out, "utf8"))
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const parts = line.split("|");
      return {
        env: parts.slice(0, 5),
        json: JSON.parse(parts.slice(5).join("|")) as Record<string, unknown>,
      };
    });

/** A logger that keeps its lines and tells when one matches. */
const recordingLogger = () => {
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  const add = (line: string): void => {
    lines.push(line);
    for (const w of [...waiters])
      if (w.pattern.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  };
  const logger: Logger = {
    debug: () => undefined,
    info: add,
    warn: add,
    error: add,
    debugEnabled: false,
  };
  const line = (pattern: RegExp): Promise<void> =>
    lines.some((l) => pattern.test(l))
      ? Promise.resolve()
      : new Promise((resolve) => waiters.push({ pattern, resolve }));
  return { logger, lines, line };
};

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

test("cli: a primary that stops is told to the hook, in order, as JSON and variables", async (t) => {
  const primary = await startBackend();
  const fallback = await startBackend();
  t.teardown(() => fallback.close());
  const { script, out } = await scriptDir(t, RECORDER);
  const run = runCli([
    `-on-change=${script}`,
    "-probe-delay=100ms",
    "127.0.0.1:0",
    primary.address,
    fallback.address,
  ]);
  t.teardown(() => {
    run.child.kill("SIGKILL");
  });
  const port = Number(/Listening on [^\s]*:(\d+)/.exec(await run.line(/Listening on/))?.[1]);
  t.is((await roundTrip(port, "one")).toString(), "one");
  await primary.close();
  // A connect refused marks it down; the route moves to the fallback.
  t.is((await roundTrip(port, "two")).toString(), "two");
  await run.line(/Hook exited 0 for route-changed to /);
  await run.line(/Hook exited 0 for backend-down /);
  const runs = await runsIn(out);
  t.deepEqual(
    runs.map((r) => r.env),
    [
      ["backend-down", primary.address, "0", runs[0]?.json["reason"], fallback.address],
      ["route-changed", "", "", "", fallback.address],
    ],
  );
  const [down, changed] = runs.map((r) => r.json);
  t.like(down, {
    type: "backend-down",
    backend: primary.address,
    backendIndex: 0,
    backendId: primary.address,
    route: [fallback.address],
  });
  t.regex(String(down?.["reason"]), /ECONNREFUSED/);
  t.regex(String(down?.["at"]), ISO);
  t.deepEqual(changed, {
    type: "route-changed",
    route: [fallback.address],
    previous: [primary.address, fallback.address],
    at: changed?.["at"],
  });
  t.regex(String(changed?.["at"]), ISO);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
});

test("library: down, rising and up are told in order, with the route as it stands", async (t) => {
  const primary = await startBackend();
  const fallback = await startBackend();
  t.teardown(() => Promise.all([primary.close(), fallback.close()]).then(() => undefined));
  const { script, out } = await scriptDir(t, RECORDER);
  const { logger, line } = recordingLogger();
  let primaryOk = true;
  const proxy = createFallbackProxy({
    listen: "127.0.0.1:0",
    backends: [primary.address, fallback.address],
    checkInterval: "50ms",
    rise: 2,
    probe: (backend): Promise<ProbeResult> =>
      Promise.resolve(
        backend.index !== 0 || primaryOk ? { ok: true } : { ok: false, reason: "told to fail" },
      ),
    onChange: [script],
    logger,
  });
  t.teardown(() => proxy.close());
  await proxy.listening;
  primaryOk = false;
  await line(/Hook exited 0 for route-changed to /);
  primaryOk = true;
  await line(/Hook exited 0 for backend-up /);
  await line(/Hook exited 0 for route-changed to .*,/);
  const runs = await runsIn(out);
  const both = `${primary.address},${fallback.address}`;
  t.deepEqual(
    runs.map((r) => r.env),
    [
      ["backend-down", primary.address, "0", "told to fail", fallback.address],
      ["route-changed", "", "", "", fallback.address],
      ["backend-rising", primary.address, "0", "", fallback.address],
      ["backend-up", primary.address, "0", "", both],
      ["route-changed", "", "", "", both],
    ],
  );
  t.like(runs[2]?.json, { type: "backend-rising", passed: 1, rise: 2 });
  t.like(runs[3]?.json, { type: "backend-up", backend: primary.address });
  t.is(typeof runs[3]?.json["downtimeMs"], "number");
  t.deepEqual(runs[4]?.json["previous"], [fallback.address]);
});

test("cli: a failing hook is logged with its exit and stderr, and the proxy keeps serving", async (t) => {
  const primary = await startBackend();
  const fallback = await startBackend();
  t.teardown(() => fallback.close());
  const { script } = await scriptDir(
    t,
    () => "echo 'pager unreachable' >&2\necho second >&2\nexit 3",
  );
  const run = runCli([
    `-on-change=${script} --to ops`,
    "-probe-delay=100ms",
    "127.0.0.1:0",
    primary.address,
    fallback.address,
  ]);
  t.teardown(() => {
    run.child.kill("SIGKILL");
  });
  const port = Number(/Listening on [^\s]*:(\d+)/.exec(await run.line(/Listening on/))?.[1]);
  await primary.close();
  t.is((await roundTrip(port, "x")).toString(), "x");
  t.regex(
    await run.line(/Hook failed/),
    new RegExp(`Hook failed \\(exit 3\\) for backend-down ${primary.address}: pager unreachable$`),
  );
  await run.line(/Hook failed \(exit 3\) for route-changed/);
  t.is((await roundTrip(port, "still here")).toString(), "still here");
  t.is(run.child.exitCode, null);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
});

test("cli: a missing hook is logged and the proxy keeps serving", async (t) => {
  const primary = await startBackend();
  const fallback = await startBackend();
  t.teardown(() => fallback.close());
  const run = runCli([
    "-on-change=/nonexistent/hook",
    "-probe-delay=100ms",
    "127.0.0.1:0",
    primary.address,
    fallback.address,
  ]);
  t.teardown(() => {
    run.child.kill("SIGKILL");
  });
  const port = Number(/Listening on [^\s]*:(\d+)/.exec(await run.line(/Listening on/))?.[1]);
  await primary.close();
  t.is((await roundTrip(port, "x")).toString(), "x");
  t.regex(await run.line(/Hook could not run/), /for backend-down .*ENOENT/);
  t.is((await roundTrip(port, "y")).toString(), "y");
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
});

test("cli: an empty or badly quoted command is refused, naming the flag", async (t) => {
  for (const [given, message] of [
    ["", /invalid value "" for flag -on-change: no command/],
    ["page 'ops", /invalid value "page 'ops" for flag -on-change: unterminated single quote/],
  ] as const) {
    const run = runCli([`-on-change=${given}`, "127.0.0.1:0", "127.0.0.1:1"]);
    t.is(await run.exited, 2);
    t.regex(run.stderr(), message);
  }
});

test("library: an empty onChange is refused", (t) => {
  const error = t.throws(() =>
    createFallbackProxy({ listen: "127.0.0.1:0", backends: ["127.0.0.1:1"], onChange: [] }),
  );
  t.regex(error?.message ?? "", /options\.onChange/);
});
