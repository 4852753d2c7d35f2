/**
 * A reload under load: wrk opens a new connection per request through tcp-fallback (started
 * with -config) to nginx, while the config file is rewritten and SIGHUP sent every 500 ms
 * (a backend added first, then removed, then the list back). Counts requests, socket errors
 * and non-2xx answers: a reload must lose none. Usage: node dist/bench/reload-under-load.js
 * [--seconds S] [--out DIR]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HOST, freePort, waitForPort } from "./lib/net.js";
import { which } from "./lib/proc.js";
import { nginxConfig, parseWrk } from "./scenarios/http.js";

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const at = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (at < 0) return fallback;
  const arg = args[at] ?? "";
  return arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : (args[at + 1] ?? fallback);
};
const seconds = Number(option("--seconds", "10"));
const out = option("--out", "");

const need = (name: string): string => {
  const path = which(name);
  if (path === undefined) throw new Error(`${name} is not installed (npm run bench:setup)`);
  return path;
};

const cli = fileURLToPath(new URL("../src/cli.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "tcp-fallback-reload-bench-"));
const children: ChildProcess[] = [];
/** SIGTERM first (nginx's master then stops its workers), SIGKILL what is left after 2 s. */
const stopAll = async (): Promise<void> => {
  const running = children.filter((child) => child.exitCode === null && child.signalCode === null);
  for (const child of running) child.kill("SIGTERM");
  await Promise.race([
    Promise.all(running.map((child) => once(child, "exit"))),
    new Promise((resolve) => setTimeout(resolve, 2_000)),
  ]);
  for (const child of running)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  rmSync(tmp, { recursive: true, force: true });
};

const main = async (): Promise<void> => {
  const ports = [await freePort(), await freePort()];
  const prefix = join(tmp, "nginx");
  mkdirSync(prefix);
  writeFileSync(join(prefix, "nginx.conf"), nginxConfig(prefix, ports));
  const nginx = spawn(
    need("nginx"),
    ["-p", prefix, "-c", join(prefix, "nginx.conf"), "-e", join(prefix, "error.log")],
    { stdio: "ignore" },
  );
  children.push(nginx);
  for (const port of ports) await waitForPort(port, "nginx", () => nginx.exitCode === null);

  const [one, two] = ports.map((port) => `${HOST}:${port}`);
  const listen = await freePort();
  const config = join(tmp, "config.yaml");
  const write = (backends: ReadonlyArray<string | undefined>): void =>
    writeFileSync(
      config,
      `listen: "${HOST}:${listen}"\nstatsInterval: 0\ndrainTimeout: 2s\nprobeDelay: 1s\nbackends:\n${backends.map((b) => `  - "${b}"\n`).join("")}`,
    );
  write([one]);
  const proxy = spawn(process.execPath, [cli, `-config=${config}`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(proxy);
  let log = "";
  proxy.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  await waitForPort(listen, "tcp-fallback", () => proxy.exitCode === null);

  const lists = [[two, one], [one], [one, two], [one]];
  let reloads = 0;
  const ticker = setInterval(() => {
    write(lists[reloads % lists.length] ?? [one]);
    proxy.kill("SIGHUP");
    reloads++;
  }, 500);
  const wrk = spawn(
    need("wrk"),
    [
      "-t1",
      "-c64",
      `-d${seconds}s`,
      "--latency",
      "--timeout",
      "2s",
      "-H",
      "Connection: close",
      `http://${HOST}:${listen}/`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(wrk);
  let text = "";
  wrk.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  await once(wrk, "exit");
  clearInterval(ticker);
  const report = parseWrk(text);
  const applied = (log.match(/Configuration reloaded/g) ?? []).length;
  const refused = (log.match(/reload refused/g) ?? []).length;
  const result = {
    seconds,
    requests: report.requests,
    requestsPerSecond: report.requestsPerSecond,
    p99ms: report.latency["99"] ?? null,
    socketErrors: report.socketErrors,
    non2xx: report.non2xx,
    reloadsSent: reloads,
    reloadsApplied: applied,
    reloadsRefused: refused,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (out !== "") {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "reload-under-load.json"), `${JSON.stringify(result, null, 2)}\n`);
  }
};

main().then(
  () => stopAll(),
  async (error: unknown) => {
    await stopAll();
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  },
);
