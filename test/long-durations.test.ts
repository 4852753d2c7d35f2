import test from "ava";
import { setTimeout as sleep } from "node:timers/promises";
import { of } from "rxjs";
import { connectionDuringDrain, listeningPort, runCli } from "./helpers/cli.js";
import { refusedPort, startReplyAtEndBackend } from "./helpers/net.js";
import { startProxy } from "./helpers/proxy.js";

// Durations above 2^31-1 ms used to reach Node's timers, which fire such a timer after 1 ms.
// Waiting correctly means nothing happens, and no event marks the end of "nothing happened", so
// these tests watch a fixed window in which the old code fired hundreds of times.
const QUIET_WINDOW_MS = 300;

const overflowWarnings: string[] = [];
process.on("warning", (warning) => {
  if (warning.name === "TimeoutOverflowWarning") overflowWarnings.push(warning.message);
});

const countLines = (text: string, pattern: RegExp): number =>
  text.split("\n").filter((line) => pattern.test(line)).length;

const cliWaits = test.macro(async (t, mode: ReadonlyArray<string>) => {
  const dead = `127.0.0.1:${await refusedPort()}`;
  const backend = await startReplyAtEndBackend();
  t.teardown(() => backend.close());
  const run = runCli([
    ...mode,
    "-debug",
    "-probe-delay=600h",
    "-stats=600h",
    "-timeout=600h",
    "-drain-timeout=600h",
    "127.0.0.1:0",
    dead,
    backend.address,
  ]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const port = await listeningPort(run);
  await run.line(new RegExp(`Backend ${dead} is down: `));
  // Probes and stats go on while the proxy drains, so one window covers all four durations.
  const { live, reply } = await connectionDuringDrain(run, port, "before ");
  let closedEarly = false;
  live.once("close", () => (closedEarly = true));
  const failedProbes = countLines(run.stderr(), /Failed to connect to backend/);
  await sleep(QUIET_WINDOW_MS);
  const stderr = run.stderr();
  t.is(countLines(stderr, /Failed to connect to backend/), failedProbes);
  t.is(countLines(stderr, /STATS:/), 0);
  t.notRegex(stderr, /TimeoutOverflowWarning/);
  t.false(closedEarly, "the drain timeout closed the client early");
  live.end("after");
  t.is((await reply).toString(), "before after");
  t.is(await run.exited, 0);
});

test("CLI: 600h probe delay, stats, connect and drain timeouts wait that long", cliWaits, []);

test("CLI with workers: 600h durations wait that long in the primary and the workers", cliWaits, [
  "-workers=2",
]);

test("library: 600h probe delay and stats interval wait that long", async (t) => {
  let probes = 0;
  let snapshots = 0;
  let startUpProbe = (): void => undefined;
  const probed = new Promise<void>((resolve) => (startUpProbe = resolve));
  const { proxy } = await startProxy({
    backends: [`127.0.0.1:${await refusedPort()}`],
    probeDelay: "600h",
    statsInterval: "600h",
    connectTimeout: "600h",
    drainTimeout: "600h",
    probe: () => {
      probes++;
      startUpProbe();
      return of({ ok: false, reason: "counted" } as const);
    },
  });
  const counting = proxy.stats$.subscribe(() => snapshots++);
  t.teardown(async () => {
    counting.unsubscribe();
    await proxy.close();
  });
  await probed;
  await sleep(QUIET_WINDOW_MS);
  t.is(probes, 1);
  t.is(snapshots, 0);
  t.deepEqual(overflowWarnings, []);
});
