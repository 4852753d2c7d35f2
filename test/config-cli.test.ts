import test, { type ExecutionContext } from "ava";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectTo, readAll, roundTrip, startBackend } from "./helpers/net.js";
import { type CliRun, listeningPort, runCli, stackTrace } from "./helpers/cli.js";

/** A temp dir with a config file in it; removed at teardown. */
const configFile = async (t: ExecutionContext, name: string, text: string): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-config-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
};

const stopped = async (t: ExecutionContext, run: CliRun): Promise<void> => {
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  t.notRegex(run.stderr(), stackTrace);
};

test("-config=FILE: a YAML file with the addresses runs the proxy, no address on the command line", async (t) => {
  const a = await startBackend();
  t.teardown(() => a.close());
  const path = await configFile(
    t,
    "tcp-fallback.yaml",
    `# the proxy
listen: "127.0.0.1:0"
backends:
  - address: "${a.address}"
    name: primary
connectTimeout: 2s
statsInterval: 0
`,
  );
  const run = runCli([`-config=${path}`]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const port = await listeningPort(run);
  t.is((await roundTrip(port, "hello")).toString(), "hello");
  await stopped(t, run);
});

test("a bad file is a usage error naming the file, the key's path and the value, before anything listens", async (t) => {
  const path = await configFile(
    t,
    "bad.yaml",
    `listen: "127.0.0.1:0"
backends:
  - "127.0.0.1:7001"
  - { address: "127.0.0.1:7002", check: mysq }
probeDelay: 5x
colour: blue
`,
  );
  const run = runCli([`-config=${path}`]);
  t.is(await run.exited, 2);
  const text = run.stderr();
  t.regex(text, new RegExp(`${path}: backends\\[1\\]\\.check: .*"mysq"`));
  t.regex(text, new RegExp(`${path}: probeDelay: .*"5x"`));
  t.regex(text, new RegExp(`${path}: colour: unknown option`));
  t.notRegex(text, /Listening on/);
  t.notRegex(text, stackTrace);
});

test("a file that is not YAML, or missing, is named with the reason", async (t) => {
  const path = await configFile(t, "broken.yaml", "listen: [\n");
  const broken = runCli([`-config=${path}`]);
  t.is(await broken.exited, 2);
  t.regex(broken.stderr(), new RegExp(`${path}: line \\d+, column \\d+: `));
  const missing = runCli(["-config=/nonexistent/tcp-fallback.yaml"]);
  t.is(await missing.exited, 2);
  t.regex(
    missing.stderr(),
    /\/nonexistent\/tcp-fallback\.yaml: cannot read the configuration file: no such file/,
  );
});

test("-check-config prints the settings a JSON file and the flags make (flags win), and exits 0 without listening", async (t) => {
  const path = await configFile(
    t,
    "tcp-fallback.json",
    JSON.stringify({
      listen: "127.0.0.1:0",
      backends: ["127.0.0.1:7001", { address: "127.0.0.1:7002", rise: 3 }],
      connectTimeout: "5s",
      checkPassword: "hunter2",
    }),
  );
  const run = runCli([`-config=${path}`, "-check-config", "-timeout=2s"]);
  t.is(await run.exited, 0);
  const settings = JSON.parse(run.stdout()) as Record<string, unknown>;
  t.is(settings["connectTimeoutMs"], 2_000);
  t.deepEqual(
    (settings["backends"] as Array<{ label: string; rise?: number }>).map((b) => [b.label, b.rise]),
    [
      ["127.0.0.1:7001", undefined],
      ["127.0.0.1:7002", 3],
    ],
  );
  t.false(run.stdout().includes("hunter2"), "no secret printed");
  t.notRegex(run.stderr(), /Listening/);
  const bad = runCli([`-config=${path}`, "-check-config", "-timeout=0s"]);
  t.is(await bad.exited, 2);
  t.is(await runCli(["-check-config", "127.0.0.1:0", "127.0.0.1:1"]).exited, 2);
});

test("SIGHUP reloads the file: a backend added first takes new clients; a broken file is refused and the proxy goes on", async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const yaml = (backends: string[]) =>
    `listen: "127.0.0.1:0"\nstatsInterval: 0\nbackends:\n${backends.map((x) => `  - "${x}"\n`).join("")}`;
  const path = await configFile(t, "tcp-fallback.yaml", yaml([a.address]));
  const run = runCli([`-config=${path}`]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const port = await listeningPort(run);
  t.is((await roundTrip(port, "1")).toString(), "1");
  t.is(a.served(), 1);

  await writeFile(path, yaml([b.address, a.address]));
  run.child.kill("SIGHUP");
  await run.line(/Configuration reloaded: added 127\.0\.0\.1:\d+; removed none; changed none/);
  t.is((await roundTrip(port, "2")).toString(), "2");
  t.is(b.served(), 1);

  await writeFile(path, "backends: [\n");
  run.child.kill("SIGHUP");
  await run.line(/Configuration reload refused, the running one stays: .*line \d+/);
  t.is((await roundTrip(port, "3")).toString(), "3");
  t.is(b.served(), 2);
  // With a config file SIGUSR1 alone reopens the log.
  run.child.kill("SIGUSR1");
  await run.line(/Log reopened on SIGUSR1/);
  await stopped(t, run);
});

test("POST /reload applies the file and answers what changed; a bad file is a 422 with the problems", async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const yaml = (backends: string) =>
    `listen: "127.0.0.1:0"\nadmin: "127.0.0.1:0"\nstatsInterval: 0\nbackends: ${backends}\n`;
  const path = await configFile(t, "tcp-fallback.yaml", yaml(`["${a.address}"]`));
  const run = runCli([`-config=${path}`]);
  t.teardown(() => run.child.kill("SIGKILL"));
  await listeningPort(run);
  const adminLine = await run.line(/Admin listening on /);
  const admin = `http://127.0.0.1:${/:(\d+)$/.exec(adminLine)?.[1] ?? ""}`;
  await writeFile(path, yaml(`["${a.address}", "${b.address}"]`));
  const applied = await fetch(`${admin}/reload`, { method: "POST" });
  t.is(applied.status, 200);
  t.like(await applied.json(), { ok: true, added: [b.address], removed: [], changed: [] });
  await writeFile(path, yaml(`[{ address: "${b.address}", rise: 0 }]`));
  const refused = await fetch(`${admin}/reload`, { method: "POST" });
  t.is(refused.status, 422);
  const body = (await refused.json()) as { ok: boolean; problems: string[] };
  t.false(body.ok);
  t.regex(body.problems.join("\n"), /backends\[0\]\.rise/);
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  t.regex(metrics, /^tcp_fallback_config_reloads_total\{result="applied"\} 1$/m);
  t.regex(metrics, /^tcp_fallback_config_reloads_total\{result="refused"\} 1$/m);
  await stopped(t, run);
});

test("-workers=2 -config: a reload reaches every worker", async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const yaml = (backends: string[]) =>
    `listen: "127.0.0.1:0"\nstatsInterval: 0\nworkers: 2\nbackends:\n${backends.map((x) => `  - "${x}"\n`).join("")}`;
  const path = await configFile(t, "tcp-fallback.yaml", yaml([a.address]));
  const run = runCli([`-config=${path}`], { ownGroup: true });
  t.teardown(() => {
    try {
      process.kill(-(run.child.pid ?? 0), "SIGKILL");
    } catch {
      // Already gone.
    }
  });
  await run.line(/Worker \d+ ready/, 2);
  const port = await listeningPort(run);
  await writeFile(path, yaml([b.address, a.address]));
  run.child.kill("SIGHUP");
  await run.line(/Configuration reloaded: added/);
  // The route reaches the workers over IPC a moment after the log line: bounded poll.
  for (let i = 0; i < 40 && b.served() === 0; i++) await roundTrip(port, "poll");
  // Then both workers route to the new first backend: 20 clients, every one on it.
  const [onA, onB] = [a.served(), b.served()];
  for (let i = 0; i < 20; i++) t.is((await roundTrip(port, `${i}`)).toString(), `${i}`);
  t.is(a.served(), onA);
  t.is(b.served(), onB + 20);
  // The listener moves too: every worker binds the new address, then closes the old one.
  await writeFile(
    path,
    yaml([b.address, a.address]).replace('listen: "127.0.0.1:0"', 'listen: "127.0.0.2:0"'),
  );
  run.child.kill("SIGHUP");
  const moved = await run.line(/Listening on 127\.0\.0\.2:\d+ \(moved by a reload\)/);
  const newPort = Number(/127\.0\.0\.2:(\d+)/.exec(moved)?.[1]);
  for (let i = 0; i < 10; i++) {
    const socket = await connectTo(newPort, "127.0.0.2");
    const reply = readAll(socket);
    socket.end(`moved ${i}`);
    t.is((await reply).toString(), `moved ${i}`);
  }
  await t.throwsAsync(connectTo(port), { code: "ECONNREFUSED" });
  process.kill(-(run.child.pid ?? 0), "SIGTERM");
  t.is(await run.exited, 0);
  t.notRegex(run.stderr(), stackTrace);
});

test("the example config in contrib/ is a valid file", async (t) => {
  const example = new URL("../../contrib/config.example.yaml", import.meta.url).pathname;
  const secrets = await configFile(t, "check-password", "s3cret\n");
  // Its password file path is a real one elsewhere: point it at a temp file.
  const run = runCli([`-config=${example}`, "-check-config", `-check-password-file=${secrets}`]);
  t.is(await run.exited, 0, run.stderr());
  const settings = JSON.parse(run.stdout()) as { backends: Array<{ name?: string }> };
  t.deepEqual(
    settings.backends.map((b) => b.name),
    ["primary", "standby"],
  );
});

test("keys may be written as flags are (connect-timeout, send-proxy), at the top and in a backend", async (t) => {
  const path = await configFile(
    t,
    "kebab.yaml",
    `listen: "127.0.0.1:0"
connect-timeout: 2s
backends:
  - { address: "127.0.0.1:7001", send-proxy: v2 }
`,
  );
  const run = runCli([`-config=${path}`, "-check-config"]);
  t.is(await run.exited, 0, run.stderr());
  const settings = JSON.parse(run.stdout()) as {
    connectTimeoutMs: number;
    backends: Array<{ sendProxy?: string }>;
  };
  t.is(settings.connectTimeoutMs, 2_000);
  t.is(settings.backends[0]?.sendProxy, "v2");
});
