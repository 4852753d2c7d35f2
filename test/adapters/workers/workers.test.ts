import test from "ava";
import { readdir, readFile } from "node:fs/promises";
import { childrenOf } from "../../helpers/descriptors.js";
import {
  connectionDuringDrain,
  listeningPort,
  moduleLog,
  runCli,
  stackTrace,
} from "../../helpers/cli.js";
import { roundTrip, startBackend, startReplyAtEndBackend } from "../../helpers/net.js";

test("-workers=2: one Listening line, every connection relayed, STATS once per interval with all workers' counts", async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const run = runCli(["-workers=2", "-stats=300ms", "127.0.0.1:0", backend.address]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const port = await listeningPort(run);
  t.regex(run.stderr(), /Starting 2 worker processes/);
  const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => roundTrip(port, `c${i}`)));
  t.deepEqual(
    replies.map((r) => r.toString()),
    Array.from({ length: 40 }, (_, i) => `c${i}`),
  );
  const totals = await run.line(/STATS: total active=0 accepted=40 /);
  t.regex(totals, /refused=0$/);
  // One line per backend and one of totals per tick: no copy per worker.
  await run.line(/STATS: total/, 3);
  const log = run.stderr();
  t.is(log.match(/Listening on/g)?.length, 1);
  t.is(log.match(/STATS: </g)?.length, log.match(/STATS: total/g)?.length);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
});

test("workers: a failure one worker sees marks the backend down for all; failback reaches every worker", async (t) => {
  const primary = await startBackend();
  const fallback = await startBackend();
  t.teardown(() => fallback.close());
  const run = runCli([
    "-workers=2",
    "-probe-delay=100ms",
    "-stats=0",
    "127.0.0.1:0",
    primary.address,
    fallback.address,
  ]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const port = await listeningPort(run);
  t.is((await roundTrip(port, "one")).toString(), "one");
  const primaryPort = primary.port;
  await primary.close();
  t.is((await roundTrip(port, "two")).toString(), "two");
  await run.line(new RegExp(`Backend 127\\.0\\.0\\.1:${primaryPort} is down: `));
  // Every later client, whichever worker takes it, goes straight to the fallback.
  for (let i = 0; i < 10; i++) t.is((await roundTrip(port, `f${i}`)).toString(), `f${i}`);
  t.is(fallback.served(), 11);
  const revived = await startBackend(undefined, primaryPort);
  t.teardown(() => revived.close());
  await run.line(new RegExp(`Backend is back 127\\.0\\.0\\.1:${primaryPort}`));
  // The primary pushes the new route; give each worker's connection a chance to land on it.
  let backOnPrimary = 0;
  for (let i = 0; i < 20; i++) {
    await roundTrip(port, `p${i}`);
    backOnPrimary = revived.served();
  }
  t.true(backOnPrimary >= 19, `only ${backOnPrimary} of 20 clients went back to the primary`);
  t.is(run.stderr().match(/ is down: /g)?.length, 1);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
});

test("workers: a worker that dies is replaced and the proxy keeps serving", async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const run = runCli(["-maxthreads=2", "-stats=0", "127.0.0.1:0", backend.address]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const port = await listeningPort(run);
  t.regex(run.stderr(), /Starting 2 worker processes/);
  // Both workers must be listening: with none left, the shared listening socket would close.
  await run.line(/Worker \d+ ready/, 2);
  const pid = run.child.pid ?? 0;
  const [victim] = await childrenOf(pid);
  t.truthy(victim);
  process.kill(victim ?? 0, "SIGKILL");
  await run.line(/exited \(SIGKILL\); starting another/);
  for (let i = 0; i < 10; i++) t.is((await roundTrip(port, `r${i}`)).toString(), `r${i}`);
  await run.line(/Worker \d+ ready/, 3);
  t.is((await childrenOf(pid)).length, 2);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  t.notRegex(run.stderr(), stackTrace);
});

test("workers: SIGTERM drains live connections in every worker, then final stats and exit 0", async (t) => {
  const backend = await startReplyAtEndBackend();
  t.teardown(() => backend.close());
  const run = runCli([
    "-workers=2",
    "-debug",
    "-drain-timeout=60s",
    "-stats=0",
    "127.0.0.1:0",
    backend.address,
  ]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const port = await listeningPort(run);
  const { live, reply } = await connectionDuringDrain(run, port, "before ");
  live.end("after");
  const got = (await reply).toString();
  t.is(got, "before after");
  const code = await run.exited;
  if (code !== 0) t.log(run.stderr());
  t.is(code, 0);
  t.regex(
    run.stderr(),
    new RegExp(`STATS: <${backend.address}> failed=false .* requests=1 bytes=24 `),
  );
  const left = await childrenOf(run.child.pid ?? 0);
  t.deepEqual(
    await Promise.all(
      left.map((pid) => readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "gone")),
    ),
    [],
  );
});

test("workers: -cpuprofile writes the primary's profile and one per worker", async (t) => {
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "proxy.cpuprofile");
  const run = runCli([
    "-workers=2",
    "-drain-timeout=60s",
    `-cpuprofile=${path}`,
    "-stats=0",
    "127.0.0.1:0",
    "127.0.0.1:1",
  ]);
  t.teardown(() => run.child.kill("SIGKILL"));
  await listeningPort(run);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  const files = (await readdir(dir)).sort();
  t.is(files[0], "proxy.cpuprofile");
  t.is(files.filter((f) => /^proxy\.cpuprofile\.worker-\d+$/.test(f)).length, 2);
  const profile = JSON.parse(await readFile(join(dir, files[1] ?? ""), "utf8")) as {
    nodes: unknown[];
  };
  t.true(profile.nodes.length > 0);
});

test("workers load only the data plane: no streams, control plane or composition root", async (t) => {
  const log = await moduleLog();
  t.teardown(() => log.remove());
  const run = runCli(["-workers=2", "-stats=0", "127.0.0.1:0", "127.0.0.1:1"], {
    nodeArgs: log.nodeArgs,
  });
  t.teardown(() => run.child.kill("SIGKILL"));
  await listeningPort(run);
  await run.line(/Worker \d+ ready/, 2);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  const byProcess = await log.urlsByProcess();
  const primary = byProcess.get(run.child.pid ?? 0) ?? [];
  t.true(primary.some((url) => url.endsWith("/dist/src/adapters/workers/fleet.js")));
  const workers = [...byProcess].filter(([pid]) => pid !== run.child.pid).map(([, urls]) => urls);
  t.is(workers.length, 2);
  const controlSide = [
    /\/node_modules\/rxjs\//,
    /\/src\/(fallback-proxy|control-plane)\.js$/,
    /\/src\/streams\//,
    /\/src\/adapters\/workers\/fleet\.js$/,
  ];
  for (const urls of workers) {
    // The hooks saw the worker's own program: an empty list would prove nothing.
    t.true(urls.some((url) => url.endsWith("/dist/src/adapters/workers/worker.js")));
    t.deepEqual(
      urls.filter((url) => controlSide.some((pattern) => pattern.test(url))),
      [],
    );
  }
});
