import test from "ava";
import { execFile } from "node:child_process";
import { once } from "node:events";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { type CliRun, listeningPort, runCli, stackTrace } from "./helpers/cli.js";
import { connectTo, startBackend } from "./helpers/net.js";

const adminPortOf = async (run: CliRun): Promise<number> => {
  const line = await run.line(/Admin listening on /);
  return Number(/:(\d+)$/.exec(line)?.[1]);
};

/** One metric's value (no labels) from the admin server's /metrics. */
const metric = async (adminPort: number, name: string): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.split(" ")[1] ?? Number.NaN);
};

/** Polls a metric (bounded) until `ok` holds; resolves with its last value. */
const metricReaches = async (
  adminPort: number,
  name: string,
  ok: (value: number) => boolean,
): Promise<number> => {
  const started = Date.now();
  let value = await metric(adminPort, name);
  while (!ok(value) && Date.now() - started < 5_000) {
    await sleep(50);
    value = await metric(adminPort, name);
  }
  return value;
};

/** Writes `text`; resolves once it has come back, or with false after `ms`. */
const echoedWithin = async (socket: Socket, text: string, ms: number): Promise<boolean> => {
  let got = "";
  const onData = (chunk: Buffer): void => void (got += chunk.toString());
  socket.on("data", onData);
  socket.write(text);
  const started = Date.now();
  while (!got.includes(text) && Date.now() - started < ms)
    await Promise.race([once(socket, "data"), sleep(ms - (Date.now() - started))]);
  socket.removeListener("data", onData);
  return got.includes(text);
};

test("-workers=2 -maxconn=1: each worker pauses at one client, a third waits in the backlog and is served once one closes", async (t) => {
  const backend = await startBackend();
  const run = runCli([
    "-workers=2",
    "-maxconn=1",
    "-admin=127.0.0.1:0",
    "-stats=0",
    "127.0.0.1:0",
    backend.address,
  ]);
  t.teardown(async () => {
    run.child.kill("SIGKILL");
    await backend.close();
  });
  const port = await listeningPort(run);
  const adminPort = await adminPortOf(run);
  await run.line(/Worker \d+ ready/, 2);
  // The first worker to accept pauses: the second client can only go to the other one.
  const first = await connectTo(port);
  t.true(await echoedWithin(first, "one", 5_000));
  const second = await connectTo(port);
  t.true(await echoedWithin(second, "two", 5_000));
  const third = await connectTo(port);
  let reset = false;
  third.on("error", () => (reset = true));
  t.false(await echoedWithin(third, "three", 400));
  t.is(backend.served(), 2);
  first.destroy();
  // "three" was sent already: it comes back once a worker accepts again.
  let got = "";
  third.on("data", (chunk: Buffer) => (got += chunk.toString()));
  const started = Date.now();
  while (!got.includes("three") && Date.now() - started < 5_000) await sleep(20);
  t.is(got, "three");
  t.false(reset);
  // Both workers paused at least once; the counts reach the primary's metrics.
  t.true((await metricReaches(adminPort, "tcp_fallback_accept_paused_total", (v) => v >= 2)) >= 2);
  t.regex(run.stderr(), /Accepting paused at 1 live connections \(-maxconn\)/);
  second.destroy();
  third.destroy();
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  t.notRegex(run.stderr(), stackTrace);
});

test("-workers=2 -idle-timeout -keepalive: an idle connection is closed and counted in the primary's metrics; its sockets had keepalive", async (t) => {
  const backend = await startBackend();
  const run = runCli([
    "-workers=2",
    "-idle-timeout=400ms",
    "-keepalive=30s",
    "-admin=127.0.0.1:0",
    "-stats=0",
    "127.0.0.1:0",
    backend.address,
  ]);
  t.teardown(async () => {
    run.child.kill("SIGKILL");
    await backend.close();
  });
  const port = await listeningPort(run);
  const adminPort = await adminPortOf(run);
  await run.line(/Worker \d+ ready/, 2);
  const client = await connectTo(port);
  t.true(await echoedWithin(client, "hello", 5_000));
  const closed = new Promise<void>((resolve) => {
    client.on("error", () => resolve());
    client.once("end", () => resolve());
  });
  // Kept busy while ss looks (a slow ss under load must not find it closed already).
  const busy = setInterval(() => client.write("."), 100);
  t.teardown(() => clearInterval(busy));
  const { stdout } = await promisify(execFile)("ss", [
    "-tnoH",
    "state",
    "established",
    `( sport = :${port} )`,
  ]);
  t.regex(stdout, /timer:\(keepalive,/);
  clearInterval(busy);
  // Its last byte went out up to 100 ms ago: closed at least 400 ms after that.
  const idleSince = Date.now();
  await Promise.race([closed, sleep(5_000)]);
  const after = Date.now() - idleSince;
  t.true(after >= 250 && after < 3_000, `closed after ${after} ms`);
  t.is(await metricReaches(adminPort, "tcp_fallback_idle_timeouts_total", (v) => v >= 1), 1);
  t.is(await metric(adminPort, "tcp_fallback_fin_timeouts_total"), 0);
  client.destroy();
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  t.notRegex(run.stderr(), stackTrace);
});

test("limit flags refuse bad values, naming the flag and the value", async (t) => {
  for (const [flag, message] of [
    ["-maxconn=0", /invalid value "0" for flag -maxconn: must be an integer >= 1/],
    ["-backend-maxconn=x", /invalid value "x" for flag -backend-maxconn: not an integer/],
    ["-idle-timeout=0s", /invalid value "0s" for flag -idle-timeout: must be positive/],
    ["-keepalive=5x", /invalid value "5x" for flag -keepalive: unknown unit "x"/],
    ["-fin-timeout=-1s", /invalid value "-1s" for flag -fin-timeout: must be positive/],
  ] as const) {
    const run = runCli([flag, "127.0.0.1:0", "127.0.0.1:1"]);
    t.is(await run.exited, 2, flag);
    t.regex(run.stderr(), message);
  }
});
