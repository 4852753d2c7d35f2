import test from "ava";
import { availableParallelism } from "node:os";
import { listeningPort, runCli } from "../../helpers/cli.js";

const cpus = availableParallelism();
const cpuText = `${cpus} CPU${cpus === 1 ? "" : "s"}`;
const readyLines = (log: string): number => log.match(/Worker \d+ ready/g)?.length ?? 0;

test("-maxthreads=64 starts one worker per CPU at most, and the log says why", async (t) => {
  const run = runCli(["-maxthreads=64", "-stats=0", "127.0.0.1:0", "127.0.0.1:1"]);
  t.teardown(() => run.child.kill("SIGKILL"));
  await listeningPort(run);
  if (cpus === 1) {
    t.regex(run.stderr(), /INFO Running in one process \(-maxthreads=64, 1 CPU\)/);
  } else {
    t.regex(
      run.stderr(),
      new RegExp(`INFO Starting ${cpus} worker processes \\(-maxthreads=64, ${cpuText}\\)`),
    );
    await run.line(/Worker \d+ ready/, cpus);
  }
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  // Every worker started says it is ready before the drain lets the primary exit.
  t.is(readyLines(run.stderr()), cpus === 1 ? 0 : cpus);
  t.notRegex(run.stderr(), /share CPUs/);
});

test("-workers above the CPU count is honoured, with a warning", async (t) => {
  const asked = cpus + 1;
  const run = runCli([`-workers=${asked}`, "-stats=0", "127.0.0.1:0", "127.0.0.1:1"]);
  t.teardown(() => run.child.kill("SIGKILL"));
  await listeningPort(run);
  t.regex(
    run.stderr(),
    new RegExp(`INFO Starting ${asked} worker processes \\(-workers=${asked}, ${cpuText}\\)`),
  );
  t.regex(
    run.stderr(),
    new RegExp(`WARN -workers=${asked} is more than the ${cpuText}: workers will share CPUs`),
  );
  await run.line(/Worker \d+ ready/, asked);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  t.is(readyLines(run.stderr()), asked);
});
