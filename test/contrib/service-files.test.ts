/**
 * contrib/: the service unit, checked by the service manager's own verifier and for the settings
 * the proxy relies on, and the logrotate file, run by logrotate against a running proxy.
 */
import test from "ava";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { watch } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaults } from "../../src/domain/defaults.js";
import { cliPath, runCli } from "../helpers/cli.js";
import { roundTrip, startBackend } from "../helpers/net.js";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const UNIT = join(repoRoot, "contrib", "tcp-fallback.service");
const LOGROTATE = join(repoRoot, "contrib", "tcp-fallback.logrotate");
const STEP_TIMEOUT_MS = 20_000;

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const run = async (command: string, args: ReadonlyArray<string>): Promise<Ran> => {
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    timeout: STEP_TIMEOUT_MS,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
};

const tempDir = async (t: { teardown(fn: () => Promise<void>): void }): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-contrib-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
};

/** A unit file's settings: section -> key -> every value given, in order. */
const parseUnit = (text: string): Map<string, Map<string, string[]>> => {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section?.[1] !== undefined) {
      current = new Map();
      sections.set(section[1], current);
      continue;
    }
    const eq = line.indexOf("=");
    if (current === undefined || eq < 0) throw new Error(`not a setting: ${line}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
};

/** The unit with ExecStart pointed at this build's command (the verifier wants it to exist). */
const unitForThisBuild = async (dir: string, unit: string): Promise<string> => {
  const path = join(dir, "tcp-fallback.service");
  await writeFile(
    path,
    unit.replace(/^ExecStart=\/usr\/bin\/tcp-fallback /m, `ExecStart=${cliPath} `),
  );
  return path;
};

test("the unit passes the service manager's verifier without a word", async (t) => {
  const dir = await tempDir(t);
  const unit = await readFile(UNIT, "utf8");
  t.regex(unit, /^ExecStart=\/usr\/bin\/tcp-fallback -config=\/etc\/tcp-fallback\/config\.yaml$/m);
  const verified = await run("systemd-analyze", ["verify", await unitForThisBuild(dir, unit)]);
  t.is(verified.code, 0, verified.stderr);
  t.is(verified.stderr, "");
  t.is(verified.stdout, "");
});

test("the verifier here does report a misspelt setting (so the check above can fail)", async (t) => {
  const dir = await tempDir(t);
  const unit = (await readFile(UNIT, "utf8")).replace("ProtectSystem=", "ProtectSytem=");
  const verified = await run("systemd-analyze", ["verify", await unitForThisBuild(dir, unit)]);
  t.regex(verified.stderr, /Unknown key 'ProtectSytem'/);
});

test("the unit runs the proxy unprivileged and sandboxed, and stops it gracefully", async (t) => {
  const unit = parseUnit(await readFile(UNIT, "utf8"));
  const service = unit.get("Service");
  const only = (key: string): string | undefined => {
    const values = service?.get(key);
    return values?.length === 1 ? values[0] : `${key} given ${values?.length ?? 0} times`;
  };
  t.like(
    Object.fromEntries([...(service ?? new Map<string, string[]>())].map(([k]) => [k, only(k)])),
    {
      ExecStart: "/usr/bin/tcp-fallback -config=/etc/tcp-fallback/config.yaml",
      ExecReload: "/bin/kill -HUP $MAINPID",
      Restart: "on-failure",
      KillSignal: "SIGTERM",
      LimitNOFILE: "65536",
      DynamicUser: "yes",
      NoNewPrivileges: "yes",
      ProtectSystem: "strict",
      ProtectHome: "yes",
      PrivateTmp: "yes",
      CapabilityBoundingSet: "",
      AmbientCapabilities: "",
      RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
      ProtectKernelTunables: "yes",
      SystemCallArchitectures: "native",
    },
  );
  // Longer than the default drain, or the service manager kills connections still draining.
  const stop = /^(\d+)s$/.exec(only("TimeoutStopSec") ?? "");
  t.truthy(stop, "TimeoutStopSec in seconds");
  t.true(Number(stop?.[1]) * 1000 > defaults.drainTimeoutMs);
  t.deepEqual(unit.get("Install")?.get("WantedBy"), ["multi-user.target"]);
  // The way to low ports is spelled out next to the empty capability sets.
  t.regex(await readFile(UNIT, "utf8"), /#\s*AmbientCapabilities=CAP_NET_BIND_SERVICE/);
});

/** Resolves once the file at `path` holds a line matching `pattern`; rejects once `ended`. */
const fileLine = async (
  path: string,
  pattern: RegExp,
  ended: Promise<unknown>,
): Promise<string> => {
  const watcher = watch(dirname(path));
  let over = false;
  void ended.then(() => (over = true));
  try {
    for (;;) {
      // Listening before reading: a write between the two still wakes the loop.
      const changed = once(watcher, "change");
      const text = await readFile(path, "utf8").catch(() => "");
      const found = text.split("\n").find((line) => pattern.test(line));
      if (found !== undefined) return found;
      if (over) throw new Error(`ended before ${pattern} in ${path}:\n${text}`);
      await Promise.race([changed, ended]);
    }
  } finally {
    watcher.close();
  }
};

test("logrotate with the contrib file: renamed, SIGUSR1, the proxy goes on in a new file", async (t) => {
  const dir = await tempDir(t);
  const log = join(dir, "tcp-fallback.log");
  const echo = await startBackend();
  t.teardown(() => echo.close());
  // With -logfile, stderr gets nothing but what goes wrong with the file.
  const proxy = runCli([`-logfile=${log}`, "127.0.0.1:0", echo.address]);
  t.teardown(() => proxy.child.kill("SIGKILL"));
  const listening = await fileLine(log, /INFO Listening on /, proxy.exited);
  const port = Number(/:(\d+)$/.exec(listening)?.[1]);

  // The contrib file as it is, but for this log file and this process.
  const contrib = await readFile(LOGROTATE, "utf8");
  t.regex(contrib, /^\/var\/log\/tcp-fallback\/tcp-fallback\.log \{$/m);
  t.regex(contrib, /^\s+systemctl kill --kill-who=main --signal=SIGUSR1 tcp-fallback\.service/m);
  const config = join(dir, "logrotate.conf");
  await writeFile(
    config,
    contrib
      .replace(/^\/var\/log\/tcp-fallback\/tcp-fallback\.log \{$/m, `${log} {`)
      .replace(/^(\s+)systemctl kill .*$/m, `$1kill -USR1 ${proxy.child.pid ?? 0}`),
  );
  // logrotate refuses a configuration others may write to.
  await chmod(config, 0o600);
  const rotated = await run("logrotate", ["--force", "--state", join(dir, "state"), config]);
  t.is(rotated.code, 0, rotated.stderr);

  await fileLine(log, /INFO Log reopened on SIGUSR1$/, proxy.exited);
  t.is((await roundTrip(port, "after rotation")).toString(), "after rotation");
  proxy.child.kill("SIGTERM");
  t.is(await proxy.exited, 0);
  t.is(proxy.stderr(), "");

  const before = await readFile(`${log}.1`, "utf8");
  const after = await readFile(log, "utf8");
  t.regex(before, /INFO Listening on /);
  t.notRegex(before, /Log reopened/);
  t.regex(after, /^\S+ \S+ INFO Log reopened on SIGUSR1\n/);
  t.regex(after, /INFO Stopped\n$/);
});
