import test from "ava";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { listeningPort, runCli, stackTrace } from "../helpers/cli.js";
import { type TestBackend, roundTrip, startBackend } from "../helpers/net.js";
import { call } from "./helpers.js";

const adminPortOf = async (run: ReturnType<typeof runCli>): Promise<number> => {
  const line = await run.line(/Admin listening on /);
  return Number(/:(\d+)$/.exec(line)?.[1]);
};

const tokenFile = async (t: import("ava").ExecutionContext, token: string): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-admin-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "token");
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  return path;
};

/** Which backend served one client. */
const servedBy = async (port: number, a: TestBackend, b: TestBackend): Promise<"A" | "B"> => {
  const before = a.served();
  await roundTrip(port, "x");
  return a.served() > before ? "A" : b.served() > 0 ? "B" : "A";
};

test("-admin off loopback without -admin-token-file is a usage error, before anything listens", async (t) => {
  const run = runCli(["-admin=0.0.0.0:9400", "127.0.0.1:0", "127.0.0.1:1"]);
  t.is(await run.exited, 2);
  t.regex(run.stderr(), /-admin: 0\.0\.0\.0 is not loopback: -admin-token-file is needed/);
  t.notRegex(run.stderr(), /Listening/);
});

test("-admin=0.0.0.0:0 with -admin-token-file starts; requests need the token (curl)", async (t) => {
  const backend = await startBackend();
  const file = await tokenFile(t, "tok-123");
  const run = runCli([
    `-admin=0.0.0.0:0`,
    `-admin-token-file=${file}`,
    "127.0.0.1:0",
    backend.address,
  ]);
  t.teardown(async () => {
    run.child.kill("SIGKILL");
    await backend.close();
  });
  const adminPort = await adminPortOf(run);
  const curl = (args: string[]) =>
    promisify(execFile)("curl", ["-s", "-m", "10", "-w", "\n%{http_code}", ...args]);
  const denied = await curl([`http://127.0.0.1:${adminPort}/status`]);
  t.regex(denied.stdout, /401$/);
  const allowed = await curl([
    "-H",
    "Authorization: Bearer tok-123",
    `http://127.0.0.1:${adminPort}/status`,
  ]);
  t.regex(allowed.stdout, /200$/);
  t.regex(allowed.stdout, /"backends"/);
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  t.notRegex(run.stderr(), stackTrace);
});

test("-failback=manual: POST /failback moves new clients back to the primary", async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  const run = runCli([
    "-failback=manual",
    "-admin=127.0.0.1:0",
    "127.0.0.1:0",
    a.address,
    b.address,
  ]);
  t.teardown(async () => {
    run.child.kill("SIGKILL");
    await a.close();
    await b.close();
  });
  const port = await listeningPort(run);
  const adminPort = await adminPortOf(run);
  t.is(await servedBy(port, a, b), "A");
  t.is((await call(adminPort, "POST", `/backends/${a.address}/drain`)).status, 200);
  await run.line(/set to drain by admin/);
  t.is(await servedBy(port, a, b), "B");
  await call(adminPort, "POST", `/backends/${a.address}/enable`);
  await run.line(/enabled by admin/);
  t.is(await servedBy(port, a, b), "B", "manual failback: stays on B until told");
  t.is((await call(adminPort, "POST", "/failback")).status, 200);
  await run.line(/Failback requested by admin/);
  t.is(await servedBy(port, a, b), "A");
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  t.notRegex(run.stderr(), stackTrace);
});

test("-workers=2 -admin: the primary serves the admin API and its actions reach every worker", async (t) => {
  const a = await startBackend();
  const b = await startBackend();
  const run = runCli(["-workers=2", "-admin=127.0.0.1:0", "127.0.0.1:0", a.address, b.address], {
    ownGroup: true,
  });
  t.teardown(async () => {
    try {
      process.kill(-(run.child.pid ?? 0), "SIGKILL");
    } catch {
      // Already gone.
    }
    await a.close();
    await b.close();
  });
  await run.line(/Worker \d+ ready/, 2);
  const port = await listeningPort(run);
  const adminPort = await adminPortOf(run);
  const status = (await call(adminPort, "GET", "/status")).body as { backends: unknown[] };
  t.is(status.backends.length, 2);
  await call(adminPort, "POST", `/backends/${a.address}/drain`);
  await run.line(/set to drain by admin/);
  // The route reaches the workers over IPC: poll a bounded number of clients until it has.
  const served: string[] = [];
  for (let i = 0; i < 40; i++) served.push(await servedBy(port, a, b));
  t.true(
    served.slice(-10).every((x) => x === "B"),
    served.join(""),
  );
  // Figures are fleet-wide: every client the workers took is counted by the primary's metrics.
  // Traffic reaches it over IPC a moment later: bounded poll.
  let accepted = 0;
  for (let i = 0; i < 100 && accepted < served.length; i++) {
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    accepted = Number(/^tcp_fallback_clients_accepted_total (\d+)$/m.exec(text)?.[1] ?? 0);
    if (accepted < served.length) await new Promise((r) => setTimeout(r, 50));
  }
  t.is(accepted, served.length);
  process.kill(-(run.child.pid ?? 0), "SIGTERM");
  t.is(await run.exited, 0);
  t.notRegex(run.stderr(), stackTrace);
});
