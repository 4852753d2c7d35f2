import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connectTo, readAll, refusedPort } from "./net.js";

/** A server program started by a test on loopback, in a temp dir, stopped by its PID. */
export interface PeerServer {
  readonly port: number;
  readonly pid: number;
  /** What it wrote to its log (and stderr) so far. */
  log(): Promise<string>;
  /** SIGTERM, SIGKILL if it lingers, then removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const START_BOUND_MS = 10_000;
const STOP_GRACE_MS = 5_000;

const exited = (child: ChildProcess): boolean =>
  child.exitCode !== null || child.signalCode !== null;

const waitForExit = (child: ChildProcess, ms: number): Promise<boolean> =>
  exited(child)
    ? Promise.resolve(true)
    : Promise.race([once(child, "exit").then(() => true), sleep(ms).then(() => false)]);

const signal = (pid: number, name: NodeJS.Signals): void => {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
};

interface Program {
  readonly command: string;
  readonly debianPackage: string;
  /** Writes its config into `dir` for `port` and returns its arguments. */
  setUp(dir: string, port: number): Promise<ReadonlyArray<string>>;
  readonly logFile: string;
}

const startOn = async (program: Program, port: number): Promise<PeerServer> => {
  const dir = await mkdtemp(join(tmpdir(), `tcp-fallback-${program.command}-`));
  const args = await program.setUp(dir, port);
  let stderr = "";
  const child = spawn(program.command, args, { stdio: ["ignore", "ignore", "pipe"], cwd: dir });
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const spawnError = await once(child, "spawn").then(
    () => null,
    (error: unknown) => error as Error,
  );
  if (spawnError !== null) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `cannot start ${program.command} (${spawnError.message}): install it (Debian: apt-get install ${program.debianPackage})`,
    );
  }
  const pid = child.pid as number;
  const log = async (): Promise<string> =>
    `${await readFile(join(dir, program.logFile), "utf8").catch(() => "")}${stderr}`;
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited(child)) {
        signal(pid, "SIGTERM");
        if (!(await waitForExit(child, STOP_GRACE_MS))) {
          signal(pid, "SIGKILL");
          await waitForExit(child, STOP_GRACE_MS);
        }
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  // Ready once it accepts connections; an exit before that (port taken, bad config) fails.
  const started = Date.now();
  while (Date.now() - started < START_BOUND_MS && !exited(child)) {
    const socket = await connectTo(port).catch(() => null);
    if (socket !== null) {
      socket.destroy();
      return { port, pid, log, stop };
    }
    await sleep(20);
  }
  const why = await log();
  await stop();
  throw new Error(`${program.command} did not listen on ${port}:\n${why}`);
};

/** Starts `program` on a free loopback port; if another process takes it meanwhile, once more. */
const start = async (program: Program): Promise<PeerServer> => {
  try {
    return await startOn(program, await refusedPort());
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("cannot start")) throw error;
    return startOn(program, await refusedPort());
  }
};

/**
 * nginx (Debian: nginx-light is enough: PROXY protocol is in its core http module) answering
 * every request with the client address and port the PROXY protocol header gave it.
 */
export const startNginxBehind = (): Promise<PeerServer> =>
  start({
    command: "nginx",
    debianPackage: "nginx-light",
    logFile: "error.log",
    setUp: async (dir, port) => {
      for (const sub of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) await mkdir(join(dir, sub));
      const config = `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  default_type text/plain;
  server {
    listen 127.0.0.1:${port} proxy_protocol;
    location / { return 200 "$proxy_protocol_addr:$proxy_protocol_port\\n"; }
  }
}
`;
      await writeFile(join(dir, "nginx.conf"), config);
      return ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log")];
    },
  });

/** HAProxy in front: a tcp listener whose one server is `target`, sent a PROXY v2 header. */
export const startHaproxyInFront = (target: string): Promise<PeerServer> =>
  start({
    command: "haproxy",
    debianPackage: "haproxy",
    logFile: "none",
    setUp: async (dir, port) => {
      const config = `
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
listen front
  bind 127.0.0.1:${port}
  server us ${target} send-proxy-v2
`;
      await writeFile(join(dir, "haproxy.cfg"), config);
      return ["-f", join(dir, "haproxy.cfg"), "-db"];
    },
  });

/** An HTTP/1.0 GET on a fresh connection: the response body (the connection ends with it). */
export const httpGetBody = async (port: number): Promise<{ body: string; clientPort: number }> => {
  const socket = await connectTo(port);
  const clientPort = socket.localPort as number;
  socket.setTimeout(5_000, () => socket.destroy(new Error(`no answer on ${port} in time`)));
  const response = readAll(socket);
  socket.write("GET / HTTP/1.0\r\nHost: test\r\n\r\n");
  const text = (await response).toString("latin1");
  socket.destroy();
  const split = text.indexOf("\r\n\r\n");
  return { body: split < 0 ? `(no body) ${text}` : text.slice(split + 4), clientPort };
};
