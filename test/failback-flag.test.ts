import test from "ava";
import { listeningPort, runCli, stackTrace } from "./helpers/cli.js";
import { type TestBackend, refusedPort, roundTrip, startBackend } from "./helpers/net.js";

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

test("-failback=ramp:-1s: one line naming the flag and the value, exit 2", async (t) => {
  const run = runCli(["-failback=ramp:-1s", "127.0.0.1:0", "127.0.0.1:1"]);
  t.is(await run.exited, 2);
  const lines = run.stderr().trim().split("\n");
  t.is(
    lines[0],
    'tcp-fallback: invalid value "ramp:-1s" for flag -failback: the ramp\'s duration must be above zero',
  );
  t.regex(lines[1] ?? "", /tcp-fallback -h/);
  t.is(lines.length, 2);
});

/** Which backend served one client: the one whose count of served clients grew. */
const servedBy = async (
  port: number,
  primary: TestBackend,
  standby: TestBackend,
): Promise<"primary" | "standby"> => {
  const before = primary.served();
  const data = `c${before}`;
  if ((await roundTrip(port, data)).toString() !== data) throw new Error("not echoed");
  if (primary.served() > before) return "primary";
  if (standby.served() === 0) throw new Error("served by neither backend");
  return "standby";
};

for (const workers of [1, 2]) {
  const flags = workers === 1 ? [] : [`-workers=${workers}`];
  test(`${["-failback=ramp:1s", ...flags].join(" ")}: the recovered primary starts with a small share, then takes every client`, async (t) => {
    const standby = await startBackend();
    const closed = await refusedPort();
    const run = runCli(
      [
        "-failback=ramp:1s",
        "-probe-delay=50ms",
        ...flags,
        "127.0.0.1:0",
        `127.0.0.1:${closed}`,
        standby.address,
      ],
      { ownGroup: true },
    );
    let primary: TestBackend | null = null;
    t.teardown(async () => {
      try {
        process.kill(-(run.child.pid ?? 0), "SIGKILL");
      } catch {
        // Already gone.
      }
      await standby.close();
      await primary?.close();
    });
    if (workers > 1) await run.line(/Worker \d+ ready/, workers);
    const port = await listeningPort(run);
    await run.line(/is down: /);
    primary = await startBackend(undefined, closed);
    await run.line(/Backend is back/);
    // The ramp starts at 0 % (10 % after 100 ms): the next client still goes to the standby.
    t.is(await servedBy(port, primary, standby), "standby");
    // After the ramp every client goes to the primary: wait for a run longer than any a share
    // below 100 % allows (bounded), then check the next ones.
    let run30 = 0;
    for (let i = 0; i < 5_000 && run30 < 30; i++) {
      run30 = (await servedBy(port, primary, standby)) === "primary" ? run30 + 1 : 0;
    }
    t.is(run30, 30);
    for (let i = 0; i < 10; i++) t.is(await servedBy(port, primary, standby), "primary");
    process.kill(-(run.child.pid ?? 0), "SIGTERM");
    t.is(await run.exited, 0);
    t.notRegex(run.stderr(), stackTrace);
  });
}
