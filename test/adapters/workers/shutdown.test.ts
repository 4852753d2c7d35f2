import test from "ava";
import { type CliRun, groupMembers, listeningPort, runCli, stackTrace } from "../../helpers/cli.js";
import { roundTrip, startBackend } from "../../helpers/net.js";

// Each run has a process group of its own, so its workers can be found even after the primary
// is gone (they would be re-parented) and a signal can reach all of them, as a service manager's does.
const ARGS = ["-workers=2", "-stats=0", "-drain-timeout=2s"];

/** Resolves true once every process of the run has closed its end of the output pipes. */
const allGone = async (run: CliRun, ms: number): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)));
  const gone = await Promise.race([run.closed.then(() => true), timeout]);
  clearTimeout(timer);
  return gone;
};

/** Waits (bounded) until the primary has forked `count` workers: they are then still booting. */
const forked = async (run: CliRun, count: number): Promise<number> => {
  const group = run.child.pid ?? 0;
  let workers = 0;
  for (let i = 0; i < 2_000 && workers < count; i++) {
    workers = (await groupMembers(group)).filter((pid) => pid !== group).length;
  }
  return workers;
};

const killGroup = (run: CliRun): void => {
  try {
    process.kill(-(run.child.pid ?? 0), "SIGKILL");
  } catch {
    // Nothing left.
  }
};

test("workers: SIGTERM to the primary while workers start: log lines only, exit 0, none left", async (t) => {
  const run = runCli([...ARGS, "127.0.0.1:0", "127.0.0.1:1"], { ownGroup: true });
  t.teardown(() => killGroup(run));
  await run.line(/Starting 2 worker processes/);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  t.deepEqual(await groupMembers(run.child.pid ?? 0), []);
  t.true(await allGone(run, 5_000));
  t.regex(run.stderr(), /INFO Received SIGTERM: closing/);
  t.regex(run.stderr(), /INFO Stopped\n$/);
  t.notRegex(run.stderr(), stackTrace);
});

test("workers: SIGTERM to the whole process group while workers start: exit 0, none left", async (t) => {
  const run = runCli([...ARGS, "127.0.0.1:0", "127.0.0.1:1"], { ownGroup: true });
  t.teardown(() => killGroup(run));
  await run.line(/Starting 2 worker processes/);
  process.kill(-(run.child.pid ?? 0), "SIGTERM");
  t.is(await run.exited, 0);
  t.deepEqual(await groupMembers(run.child.pid ?? 0), []);
  t.true(await allGone(run, 5_000));
  t.regex(run.stderr(), /INFO Stopped\n$/);
  t.notRegex(run.stderr(), stackTrace);
});

test("workers: a listen address in use: the error, exit 1, no worker outlives the primary", async (t) => {
  const taken = await startBackend();
  t.teardown(() => taken.close());
  // More workers than CPUs: some are still starting when the first one fails.
  const run = runCli(["-workers=4", "-stats=0", taken.address, "127.0.0.1:1"], {
    ownGroup: true,
  });
  t.teardown(() => killGroup(run));
  t.is(await run.exited, 1);
  // The primary waits for its workers: none is left when it exits.
  t.deepEqual(await groupMembers(run.child.pid ?? 0), []);
  t.true(await allGone(run, 5_000));
  const log = run.stderr();
  t.regex(log, new RegExp(`ERROR cannot listen on ${taken.address}: address already in use\n`));
  t.regex(
    log,
    new RegExp(`\ntcp-fallback: cannot listen on ${taken.address}: address already in use\n$`),
  );
  t.notRegex(log, stackTrace);
});

test("workers: the primary killed (SIGKILL) while workers start: no stack trace, none left", async (t) => {
  const run = runCli([...ARGS, "127.0.0.1:0", "127.0.0.1:1"], { ownGroup: true });
  t.teardown(() => killGroup(run));
  t.is(await forked(run, 2), 2);
  run.child.kill("SIGKILL");
  t.true(await allGone(run, 5_000), "a worker outlived its primary by 5 s");
  t.deepEqual(await groupMembers(run.child.pid ?? 0), []);
  t.notRegex(run.stderr(), stackTrace);
});

test("workers: the primary killed (SIGKILL) while clients come and go: workers go too, quietly", async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const run = runCli([...ARGS, "127.0.0.1:0", backend.address], { ownGroup: true });
  t.teardown(() => killGroup(run));
  const port = await listeningPort(run);
  await run.line(/Worker \d+ ready/, 2);
  // Clients keep arriving across the kill, so workers have outcomes to report as the primary dies.
  let answered = 0;
  const clientLoop = async (): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      const ok = await roundTrip(port, "hi").then(
        () => true,
        () => false,
      );
      if (!ok) return;
      if (++answered === 40) run.child.kill("SIGKILL");
    }
  };
  await Promise.all(Array.from({ length: 8 }, clientLoop));
  t.true(answered >= 40);
  t.true(await allGone(run, 5_000), "a worker outlived its primary by 5 s");
  t.deepEqual(await groupMembers(run.child.pid ?? 0), []);
  t.notRegex(run.stderr(), stackTrace);
});
