import test from "ava";
import { once } from "node:events";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  connectionDuringDrain,
  listeningPort,
  moduleLog,
  runCli,
  stackTrace,
} from "./helpers/cli.js";
import {
  connectTo,
  refusedPort,
  roundTrip,
  startBackend,
  startReplyAtEndBackend,
} from "./helpers/net.js";

const usageErrors: ReadonlyArray<[string, ReadonlyArray<string>, RegExp]> = [
  ["no backends", ["127.0.0.1:0"], /no backend given/],
  ["no addresses at all", [], /no listen address given/],
  ["a malformed backend address", ["127.0.0.1:0", "db1"], /"db1": missing port/],
  ["a backend on port 0", ["127.0.0.1:0", "127.0.0.1:0"], /"127.0.0.1:0": port must be 1-65535/],
  ["a port above 65535", ["127.0.0.1:0", "db:70000"], /"db:70000": port must be 1-65535/],
  ["a malformed listen address", ["nowhere", "127.0.0.1:1"], /invalid listen address "nowhere"/],
  ["a bad duration", ["-timeout=5x", "127.0.0.1:0", "127.0.0.1:1"], /-timeout.*"5x"/],
  [
    "a negative interval",
    ["-stats=-1s", "127.0.0.1:0", "127.0.0.1:1"],
    /-stats.*must not be negative/,
  ],
  [
    "an unknown flag",
    ["-frobnicate", "127.0.0.1:0", "127.0.0.1:1"],
    /flag provided but not defined: -frobnicate/,
  ],
  [
    "a flag without its value",
    ["127.0.0.1:0", "127.0.0.1:1", "-timeout"].slice(2),
    /flag needs an argument: -timeout/,
  ],
];

for (const [what, args, message] of usageErrors) {
  test(`usage error, exit 2: ${what}`, async (t) => {
    const run = runCli(args);
    t.is(await run.exited, 2);
    const lines = run.stderr().trim().split("\n");
    t.regex(lines[0] ?? "", message);
    t.regex(lines[1] ?? "", /tcp-fallback -h/);
    t.is(lines.length, 2);
  });
}

test("-h prints the usage on stdout and exits 0", async (t) => {
  const run = runCli(["-h"]);
  t.is(await run.exited, 0);
  t.regex(run.stdout(), /^Usage: tcp-fallback \[flags\]/);
  t.regex(run.stdout(), /-probe-delay/);
});

test("--version prints the version", async (t) => {
  const run = runCli(["--version"]);
  t.is(await run.exited, 0);
  t.regex(run.stdout(), /^tcp-fallback \d+\.\d+\.\d+\n$/);
});

/** What only a running proxy needs: a help text or a usage error must load none of it. */
const proxyModules: ReadonlyArray<RegExp> = [
  /\/node_modules\/rxjs\//,
  /\/node_modules\/io-ts\//,
  /\/node_modules\/unix-dgram\//,
  /\/src\/(index|fallback-proxy|control-plane)\.js$/,
  /\/src\/streams\//,
  /\/src\/adapters\/(relay|listener|dialer|prober|log-setup|cpu-profile)/,
  /\/src\/adapters\/(log|workers)\//,
  /^node:(cluster|inspector|net)$/,
];

const startupCases: ReadonlyArray<[string, ReadonlyArray<string>, number]> = [
  ["-h", ["-h"], 0],
  ["--version", ["--version"], 0],
  ["a usage error", ["-frobnicate", "127.0.0.1:0", "127.0.0.1:1"], 2],
  ["a bad address", ["127.0.0.1:0", "db1"], 2],
];

for (const [what, args, code] of startupCases) {
  test(`${what} loads nothing of the proxy (no streams, relay, log sinks or workers)`, async (t) => {
    const log = await moduleLog();
    t.teardown(() => log.remove());
    const run = runCli(args, { nodeArgs: log.nodeArgs });
    t.is(await run.exited, code);
    const urls = await log.urls();
    // The hooks saw the program itself: an empty log would prove nothing.
    t.true(urls.some((url) => url.endsWith("/dist/src/cli.js")));
    t.deepEqual(
      urls.filter((url) => proxyModules.some((pattern) => pattern.test(url))),
      [],
    );
  });
}

test("a refused flag value loads the option codecs but nothing else of the proxy", async (t) => {
  const log = await moduleLog();
  t.teardown(() => log.remove());
  const run = runCli(["-timeout=0", "127.0.0.1:0", "127.0.0.1:1"], { nodeArgs: log.nodeArgs });
  t.is(await run.exited, 2);
  const urls = await log.urls();
  t.true(urls.some((url) => url.endsWith("/dist/src/cli/run-options.js")));
  const codecs = /\/node_modules\/io-ts\//;
  t.deepEqual(
    urls.filter((url) => !codecs.test(url) && proxyModules.some((pattern) => pattern.test(url))),
    [],
  );
});

test("a plain start loads no syslog or file sink, no workers, no profiler", async (t) => {
  const log = await moduleLog();
  t.teardown(() => log.remove());
  const run = runCli(["-stats=0", "127.0.0.1:0", "127.0.0.1:1"], { nodeArgs: log.nodeArgs });
  t.teardown(() => run.child.kill("SIGKILL"));
  await listeningPort(run);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  const urls = await log.urls();
  t.true(urls.some((url) => url.endsWith("/dist/src/adapters/relay-server.js")));
  const unasked = [
    /\/node_modules\/unix-dgram\//,
    /\/src\/adapters\/log\/(syslog|file)-sink\.js$/,
    /\/src\/adapters\/workers\//,
    /\/src\/adapters\/cpu-profile\.js$/,
    /^node:(cluster|inspector)$/,
  ];
  t.deepEqual(
    urls.filter((url) => unasked.some((pattern) => pattern.test(url))),
    [],
  );
});

test("a listen address already in use: a clear message and exit 1", async (t) => {
  const taken = await startBackend();
  t.teardown(() => taken.close());
  const run = runCli([taken.address, "127.0.0.1:1"]);
  t.is(await run.exited, 1);
  t.regex(run.stderr(), new RegExp(`cannot listen on ${taken.address}: address already in use`));
  t.notRegex(run.stderr(), stackTrace);
});

test("Go-style flags and durations run the proxy, with the original's log lines", async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const run = runCli([
    "--timeout",
    "1.5s",
    "-probe-delay=15m0s",
    "-stats",
    "1h",
    "-maxthreads=1",
    "--debug=false",
    "127.0.0.1:0",
    backend.address,
  ]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const port = await listeningPort(run);
  t.is((await roundTrip(port, "ping")).toString(), "ping");
  t.regex(run.stderr(), /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d INFO Starting tcp-fallback ver \d/m);
  t.regex(run.stderr(), new RegExp(`INFO Backend ${backend.address} added`));
  t.notRegex(run.stderr(), /worker processes/);
  t.notRegex(run.stderr(), /DEBUG/);
});

test("-stats logs one STATS line per backend in the original's field order, plus totals", async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const run = runCli(["-stats=100ms", "127.0.0.1:0", backend.address, "127.0.0.1:1"]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const port = await listeningPort(run);
  await roundTrip(port, "12345");
  const down = await run.line(/STATS: <127\.0\.0\.1:1> failed=true/);
  t.regex(
    down,
    /failed=true \(downtime=[\d.]+m?s\) requests=0 bytes=0 errors=\d+ last=\d{4}-\d\d-\d\d /,
  );
  const used = await run.line(
    new RegExp(`STATS: <${backend.address}> failed=false \\(downtime=0s\\) requests=1 bytes=10 `),
  );
  t.regex(used, /bytes_in=5 bytes_out=5 active=0$/);
  t.regex(await run.line(/STATS: total /), /STATS: total active=\d+ accepted=\d+ refused=\d+$/);
});

test("-debug logs each connection's open and close with bytes and duration", async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const run = runCli(["-debug", "127.0.0.1:0", backend.address]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const port = await listeningPort(run);
  await roundTrip(port, "abc");
  t.regex(await run.line(/DEBUG Connection .* opened/), new RegExp(`-> ${backend.address} opened`));
  t.regex(await run.line(/DEBUG Connection .* closed/), /closed: in=3 out=3 duration=/);
});

test("-quiet logs nothing", async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const port = await refusedPort();
  const args = ["-stats=50ms", `127.0.0.1:${port}`, backend.address, "127.0.0.1:1"];
  const run = runCli(["-quiet", ...args]);
  t.teardown(() => run.child.kill("SIGKILL"));
  // Quiet prints no Listening line: knock until the proxy answers (bounded).
  let reply = "";
  for (let i = 0; i < 400 && reply === ""; i++) {
    reply = await roundTrip(port, "up?").then(
      (bytes) => bytes.toString(),
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 25));
        return "";
      },
    );
  }
  t.is(reply, "up?");
  // The same flags without -quiet log STATS twice in this time; the quiet one has run longer.
  const witness = runCli(args.map((arg) => (arg === `127.0.0.1:${port}` ? "127.0.0.1:0" : arg)));
  t.teardown(() => witness.child.kill("SIGKILL"));
  await witness.line(/Failed to connect to backend 127\.0\.0\.1:1/);
  await witness.line(/STATS: total/, 2);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  t.is(run.stderr(), "");
});

test("-logfile appends to the file and reopens it on SIGUSR1", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "proxy.log");
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const { writeFile, rename } = await import("node:fs/promises");
  await writeFile(path, "earlier line\n");
  const run = runCli([`-logfile=${path}`, "-stats=0", "127.0.0.1:0", backend.address]);
  t.teardown(() => run.child.kill("SIGKILL"));
  // Nothing goes to stderr, so the file itself is watched (bounded polling: no event crosses processes).
  const fileWith = async (file: string, pattern: RegExp): Promise<string> => {
    for (let i = 0; i < 400; i++) {
      const text = await readFile(file, "utf8").catch(() => "");
      if (pattern.test(text)) return text;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return readFile(file, "utf8").catch(() => "");
  };
  const port = Number(
    /Listening on [^\n]*:(\d+)\n/.exec(await fileWith(path, /Listening on/))?.[1] ?? 0,
  );
  t.not(port, 0);
  t.is((await roundTrip(port, "logged")).toString(), "logged");
  t.is(run.stderr(), "");
  await rename(path, `${path}.1`);
  run.child.kill("SIGUSR1");
  t.regex(await fileWith(path, /Log reopened on SIGUSR1/), /INFO Log reopened on SIGUSR1/);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  const rotated = await readFile(`${path}.1`, "utf8");
  t.true(rotated.startsWith("earlier line\n"));
  t.regex(rotated, /INFO Starting tcp-fallback/);
  const fresh = await readFile(path, "utf8");
  t.regex(fresh, /INFO Received SIGTERM/);
  t.notRegex(fresh, /Starting/);
});

test("-syslog sends RFC 3164 datagrams with facility daemon to the syslog socket", async (t) => {
  const unix = (await import("unix-dgram")).default;
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-"));
  const socketPath = join(dir, "log");
  const receiver = unix.createSocket("unix_dgram");
  const received: string[] = [];
  let notify: () => void = () => undefined;
  receiver.on("message", (message: Buffer) => {
    received.push(message.toString());
    notify();
  });
  receiver.bind(socketPath);
  t.teardown(async () => {
    receiver.close();
    await rm(dir, { recursive: true, force: true });
  });
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const run = runCli(["-syslog", `-syslog-socket=${socketPath}`, "127.0.0.1:0", backend.address]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const listening = (): string | undefined => received.find((m) => /Listening on/.test(m));
  while (listening() === undefined) {
    const next = new Promise<void>((resolve) => (notify = resolve));
    await Promise.race([next, run.exited]);
    if (run.child.exitCode !== null) break;
  }
  t.regex(
    listening() ?? "",
    /^<30>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d tcp-fallback\[\d+\]: Listening on 127\.0\.0\.1:\d+$/,
  );
  t.is(run.stderr(), "");
});

test("-syslog without a syslog socket: a clear message and exit 1", async (t) => {
  const run = runCli(["-syslog", "-syslog-socket=/nonexistent/log", "127.0.0.1:0", "127.0.0.1:1"]);
  t.is(await run.exited, 1);
  t.regex(run.stderr(), /cannot connect to syslog at \/nonexistent\/log/);
});

test("-cpuprofile writes a V8 CPU profile on exit", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "proxy.cpuprofile");
  const run = runCli([`-cpuprofile=${path}`, "127.0.0.1:0", "127.0.0.1:1"]);
  t.teardown(() => run.child.kill("SIGKILL"));
  await listeningPort(run);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  t.true((await stat(path)).size > 0);
  const profile = JSON.parse(await readFile(path, "utf8")) as {
    nodes: unknown[];
    startTime: number;
  };
  t.true(Array.isArray(profile.nodes) && profile.nodes.length > 0);
});

test("SIGTERM drains: live connections may finish, new ones are refused, final stats, exit 0", async (t) => {
  const backend = await startReplyAtEndBackend();
  t.teardown(() => backend.close());
  const run = runCli(["-debug", "-drain-timeout=5s", "-stats=0", "127.0.0.1:0", backend.address]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const port = await listeningPort(run);
  const { live, reply } = await connectionDuringDrain(run, port, "before ");
  // The listener is closed: new clients are refused.
  const refused = await connectTo(port).then(
    () => "connected",
    (error: NodeJS.ErrnoException) => error.code,
  );
  t.is(refused, "ECONNREFUSED");
  live.end("after signal");
  t.is((await reply).toString(), "before after signal");
  t.is(await run.exited, 0);
  t.regex(
    run.stderr(),
    new RegExp(`STATS: <${backend.address}> failed=false .* requests=1 bytes=38 `),
  );
});

test("SIGTERM drain timeout: connections still open are closed, exit 0", async (t) => {
  const backend = await startBackend(() => undefined);
  t.teardown(() => backend.close());
  const run = runCli(["-debug", "-drain-timeout=200ms", "127.0.0.1:0", backend.address]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const port = await listeningPort(run);
  const idle = await connectTo(port);
  idle.on("error", () => undefined);
  await run.line(/DEBUG Connection .* opened/);
  run.child.kill("SIGTERM");
  await run.line(/Draining 1 connection/);
  await Promise.race([once(idle, "close"), once(idle, "end")]);
  t.is(await run.exited, 0);
  t.regex(run.stderr(), /DEBUG Connection .* closed/);
  t.regex(run.stderr(), /Stopped/);
});
