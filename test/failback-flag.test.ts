import test from "ava";
import { listeningPort, runCli, stackTrace } from "./helpers/cli.js";
import { refusedPort, roundTrip, startBackend } from "./helpers/net.js";

test("-failback=manual: SIGUSR2 asks for a failback (logged) and the proxy keeps serving", async (t) => {
  const standby = await startBackend();
  const closed = await refusedPort();
  const run = runCli([
    "-failback=manual",
    "-probe-delay=50ms",
    "127.0.0.1:0",
    `127.0.0.1:${closed}`,
    standby.address,
  ]);
  t.teardown(async () => {
    run.child.kill("SIGKILL");
    await standby.close();
  });
  const port = await listeningPort(run);
  await run.line(/is down: /);
  run.child.kill("SIGUSR2");
  await run.line(/INFO Failback requested by SIGUSR2/);
  t.is((await roundTrip(port, "still here")).toString(), "still here");
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  t.notRegex(run.stderr(), stackTrace);
});

test("-failback=manual with workers: SIGUSR2 to the whole group ends no worker", async (t) => {
  const standby = await startBackend();
  const run = runCli(["-failback=manual", "-workers=2", "127.0.0.1:0", standby.address], {
    ownGroup: true,
  });
  t.teardown(async () => {
    try {
      process.kill(-(run.child.pid ?? 0), "SIGKILL");
    } catch {
      // Already gone.
    }
    await standby.close();
  });
  await run.line(/Worker \d+ ready/, 2);
  const port = await listeningPort(run);
  process.kill(-(run.child.pid ?? 0), "SIGUSR2");
  await run.line(/Failback requested by SIGUSR2/);
  for (let i = 0; i < 6; i++) t.is((await roundTrip(port, `c${i}`)).toString(), `c${i}`);
  t.notRegex(run.stderr(), /exited \(/);
  process.kill(-(run.child.pid ?? 0), "SIGTERM");
  t.is(await run.exited, 0);
  t.notRegex(run.stderr(), stackTrace);
});
