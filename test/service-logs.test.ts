/**
 * The CLI's log for services: -log-format=json on stderr and in -logfile, and the journal's own
 * format when stderr is the journal stream JOURNAL_STREAM names.
 */
import test from "ava";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fstatSync } from "node:fs";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliPath, runCli } from "./helpers/cli.js";
import { refusedPort, roundTrip, startBackend } from "./helpers/net.js";
import { version } from "../src/version.js";

const GO_STAMP = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (DEBUG|INFO|WARN|ERROR) /;

interface JsonLine {
  readonly time: string;
  readonly level: string;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** Each line as JSON, with the fixed keys checked. */
const jsonLines = (text: string): JsonLine[] =>
  text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const parsed = JSON.parse(line) as JsonLine;
      if (Number.isNaN(Date.parse(parsed.time)) || !parsed.time.endsWith("Z"))
        throw new Error(`no ISO time in ${line}`);
      if (!["debug", "info", "warn", "error"].includes(parsed.level))
        throw new Error(`no level in ${line}`);
      if (typeof parsed.msg !== "string") throw new Error(`no msg in ${line}`);
      return parsed;
    });

/** A loopback port something listens on, so the CLI's listen fails and it exits by itself. */
const takenPort = async (t: { teardown(fn: () => void): void }): Promise<number> => {
  const server = createServer();
  server.listen({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  t.teardown(() => server.close());
  return (server.address() as AddressInfo).port;
};

const tempDir = async (t: { teardown(fn: () => Promise<void>): void }): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-service-logs-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
};

/**
 * Runs the CLI to its end with stderr going to a file, as a service manager hands it the
 * journal's stream; `journal` sets JOURNAL_STREAM to that file's device and inode.
 */
const runWithStderrFile = async (
  dir: string,
  args: ReadonlyArray<string>,
  journal: "stderr" | string,
): Promise<{ code: number | null; stderr: string }> => {
  const path = join(dir, "stderr");
  const file = await open(path, "w");
  try {
    const { dev, ino } = fstatSync(file.fd, { bigint: true });
    const child = spawn(process.execPath, [cliPath, ...args], {
      stdio: ["ignore", "ignore", file.fd],
      env: { ...process.env, JOURNAL_STREAM: journal === "stderr" ? `${dev}:${ino}` : journal },
      timeout: 20_000,
    });
    const [code] = (await once(child, "exit")) as [number | null];
    return { code, stderr: await readFile(path, "utf8") };
  } finally {
    await file.close();
  }
};

test("-log-format=xml is a usage error naming the value, exit 2", async (t) => {
  const run = runCli(["-log-format=xml", "127.0.0.1:0", "127.0.0.1:1"]);
  t.is(await run.exited, 2);
  t.is(
    run.stderr(),
    'tcp-fallback: invalid value "xml" for flag -log-format: must be text or json\n' +
      "Run 'tcp-fallback -h' for usage.\n",
  );
});

test("-log-format=json: every stderr line is a JSON object; event lines name the event and backend", async (t) => {
  const echo = await startBackend();
  t.teardown(() => echo.close());
  const dead = `127.0.0.1:${await refusedPort()}`;
  const run = runCli(["-log-format=json", "127.0.0.1:0", dead, echo.address]);
  t.teardown(() => run.child.kill("SIGKILL"));
  const listening = JSON.parse(await run.line(/Listening on /)) as JsonLine;
  const port = Number(/:(\d+)$/.exec(listening.msg)?.[1]);
  await run.line(/is down/);
  t.is((await roundTrip(port, "through the proxy")).toString(), "through the proxy");
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);

  const lines = jsonLines(run.stderr());
  t.deepEqual(lines[0], {
    ...lines[0],
    level: "info",
    msg: `Starting tcp-fallback ver ${version}`,
  });
  t.true(lines.some((line) => line.msg === "Stopped"));
  const down = lines.find((line) => line.event === "backend-down");
  t.like(down, { level: "info", backend: dead });
  t.regex(down?.msg ?? "", new RegExp(`^Backend ${dead} is down: `));
});

test("-log-format=json with -logfile: the file's lines are JSON objects", async (t) => {
  const dir = await tempDir(t);
  const logfile = join(dir, "proxy.log");
  const port = await takenPort(t);
  const run = runCli([
    "-log-format=json",
    `-logfile=${logfile}`,
    `127.0.0.1:${port}`,
    "127.0.0.1:1",
  ]);
  t.teardown(() => run.child.kill("SIGKILL"));
  t.is(await run.exited, 1);
  const lines = jsonLines(await readFile(logfile, "utf8"));
  t.like(lines[0], { level: "info", msg: `Starting tcp-fallback ver ${version}` });
  t.like(lines.at(-1), {
    level: "error",
    msg: `cannot listen on 127.0.0.1:${port}: address already in use`,
  });
});

test("stderr the journal stream names: no timestamps, the level as a priority prefix", async (t) => {
  const dir = await tempDir(t);
  const port = await takenPort(t);
  const { code, stderr } = await runWithStderrFile(
    dir,
    [`127.0.0.1:${port}`, "127.0.0.1:1"],
    "stderr",
  );
  t.is(code, 1);
  const [first, ...rest] = stderr.split("\n");
  t.is(first, `<6>INFO Starting tcp-fallback ver ${version}`);
  t.true(rest.includes(`<3>ERROR cannot listen on 127.0.0.1:${port}: address already in use`));
  // The exit reason is not a log line: it stays as it is everywhere.
  t.is(rest.at(-2), `tcp-fallback: cannot listen on 127.0.0.1:${port}: address already in use`);
  t.false(
    rest.some((line) => /\d\d:\d\d:\d\d/.test(line)),
    stderr,
  );
});

test("the journal with -log-format=json: a priority prefix, then the object (with its time)", async (t) => {
  const dir = await tempDir(t);
  const port = await takenPort(t);
  const { code, stderr } = await runWithStderrFile(
    dir,
    ["-log-format=json", `127.0.0.1:${port}`, "127.0.0.1:1"],
    "stderr",
  );
  t.is(code, 1);
  const [first] = stderr.split("\n");
  t.regex(first ?? "", /^<6>\{/);
  t.like(jsonLines(first?.slice(3) ?? "")[0], {
    level: "info",
    msg: `Starting tcp-fallback ver ${version}`,
  });
});

test("JOURNAL_STREAM naming another stream (inherited, stderr redirected): lines keep their timestamps", async (t) => {
  const dir = await tempDir(t);
  const port = await takenPort(t);
  const { code, stderr } = await runWithStderrFile(
    dir,
    [`127.0.0.1:${port}`, "127.0.0.1:1"],
    "8:12345",
  );
  t.is(code, 1);
  const [first] = stderr.split("\n");
  t.regex(first ?? "", GO_STAMP);
  t.regex(first ?? "", new RegExp(`INFO Starting tcp-fallback ver ${version}$`));
});

test("with the journal on stderr, -logfile lines keep their timestamps", async (t) => {
  const dir = await tempDir(t);
  const logfile = join(dir, "proxy.log");
  const port = await takenPort(t);
  const { code } = await runWithStderrFile(
    dir,
    [`-logfile=${logfile}`, `127.0.0.1:${port}`, "127.0.0.1:1"],
    "stderr",
  );
  t.is(code, 1);
  const [first] = (await readFile(logfile, "utf8")).split("\n");
  t.regex(first ?? "", GO_STAMP);
});

test("-log-format=json with -workers=2: the workers' lines come out as JSON too", async (t) => {
  const echo = await startBackend();
  t.teardown(() => echo.close());
  const run = runCli(["-workers=2", "-debug", "-log-format=json", "127.0.0.1:0", echo.address], {
    ownGroup: true,
  });
  t.teardown(() => {
    try {
      process.kill(-(run.child.pid ?? 0), "SIGKILL");
    } catch {
      // Already gone.
    }
  });
  const listening = JSON.parse(await run.line(/Listening on /)) as JsonLine;
  const port = Number(/:(\d+)$/.exec(listening.msg)?.[1]);
  t.is((await roundTrip(port, "via a worker")).toString(), "via a worker");
  // Connection lines come from the worker that took the connection.
  await run.line(/"msg":"Connection .* closed/);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  await run.closed;
  const lines = jsonLines(run.stderr());
  t.true(lines.some((line) => line.level === "debug" && /^Connection .* opened$/.test(line.msg)));
  t.like(lines.at(-1), { level: "info", msg: "Stopped" });
});
