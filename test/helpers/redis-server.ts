import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { type Socket, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type RespReply,
  encodeRespPipeline,
  infoField,
  parseRespReplies,
} from "../../src/domain/resp.js";
import { refusedPort } from "./net.js";

export const REDIS_SERVER = "redis-server";

export interface RedisServer {
  readonly port: number;
  readonly pid: number;
  /** Sends one command (after AUTH when the server has a password) and returns its reply. */
  cli(...args: string[]): Promise<RespReply>;
  /** SIGTERM, SIGKILL if it lingers, then removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  readonly requirepass?: string;
}

const STOP_GRACE_MS = 5_000;
const START_BOUND_MS = 10_000;

/** One command on a fresh connection: the replies of `commands` (pipelined), bounded. */
export const redisCommands = async (
  port: number,
  commands: ReadonlyArray<ReadonlyArray<string>>,
  timeoutMs = 5_000,
): Promise<ReadonlyArray<RespReply>> => {
  const socket: Socket = connect({ host: "127.0.0.1", port });
  socket.setTimeout(timeoutMs);
  try {
    let answer = Buffer.alloc(0);
    const replies = new Promise<ReadonlyArray<RespReply>>((resolve, reject) => {
      socket.on("data", (chunk: Buffer) => {
        answer = Buffer.concat([answer, chunk]);
        const parsed = parseRespReplies(answer, commands.length);
        if (parsed.kind === "complete") resolve(parsed.replies);
        else if (parsed.kind === "invalid") reject(new Error(parsed.reason));
      });
      socket.on("error", reject);
      socket.on("timeout", () => reject(new Error(`redis on ${port}: no answer in time`)));
      socket.on("end", () => reject(new Error(`redis on ${port} closed the connection`)));
    });
    socket.write(encodeRespPipeline(commands));
    return await replies;
  } finally {
    socket.destroy();
  }
};

const waitForExit = (child: ChildProcess, ms: number): Promise<boolean> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(true)
    : Promise.race([once(child, "exit").then(() => true), sleep(ms).then(() => false)]);

/** Signals a process that may have exited on its own meanwhile. */
const signal = (pid: number, name: NodeJS.Signals): void => {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
};

/** The reply text, or the error text as an Error (for commands that must succeed). */
export const okText = (reply: RespReply): string => {
  if (reply.type === "error") throw new Error(reply.text);
  if (reply.type === "integer") return String(reply.value);
  return reply.text ?? "";
};

const startOn = async (port: number, options: RedisServerOptions): Promise<RedisServer> => {
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-redis-"));
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--daemonize",
    "no",
    "--logfile",
    join(dir, "redis.log"),
    ...(options.requirepass === undefined ? [] : ["--requirepass", options.requirepass]),
  ];
  const child = spawn(REDIS_SERVER, args, { stdio: "ignore" });
  const spawned = await Promise.race([
    once(child, "spawn").then(
      () => null,
      (error: unknown) => error as Error,
    ),
  ]);
  if (spawned !== null) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `cannot start ${REDIS_SERVER} (${spawned.message}): install it (Debian: apt-get install redis-server)`,
    );
  }
  const pid = child.pid as number;
  const auth: string[][] = options.requirepass === undefined ? [] : [["AUTH", options.requirepass]];
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
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
  const cli = async (...command: string[]): Promise<RespReply> => {
    const replies = await redisCommands(port, [...auth, command]);
    return replies[replies.length - 1] as RespReply;
  };
  // Ready once it answers PING; an exit before that (port taken) is a failed start.
  const started = Date.now();
  while (Date.now() - started < START_BOUND_MS) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    const pong = await cli("PING").catch(() => null);
    if (pong?.type === "simple" && pong.text === "PONG") return { port, pid, cli, stop };
    await sleep(20);
  }
  await stop();
  throw new Error(`${REDIS_SERVER} on port ${port} did not answer PING (see its log)`);
};

/**
 * Starts redis-server on loopback in a fresh temp dir, without persistence. Redis needs a real
 * port, so a free one is found by binding port 0 and closing it; if another process takes it
 * in between, the start is tried once more on another port.
 */
export const startRedisServer = async (options: RedisServerOptions = {}): Promise<RedisServer> => {
  try {
    return await startOn(await refusedPort(), options);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("cannot start")) throw error;
    return startOn(await refusedPort(), options);
  }
};

/** Makes `replica` replicate `primary` and waits until the link is up (bounded). */
export const replicate = async (replica: RedisServer, primary: RedisServer): Promise<void> => {
  okText(await replica.cli("REPLICAOF", "127.0.0.1", String(primary.port)));
  const started = Date.now();
  while (Date.now() - started < START_BOUND_MS) {
    const info = okText(await replica.cli("INFO", "replication"));
    if (info.includes("master_link_status:up")) return;
    await sleep(20);
  }
  throw new Error(`replica on ${replica.port} did not link to ${primary.port}`);
};

// ----- clients through a proxy

export interface Landing {
  readonly wrote: boolean;
  readonly port: number | undefined;
}

/** A client through the proxy: SET, and which server it reached (its tcp_port). */
export const landing = async (proxyPort: number, password?: string): Promise<Landing | null> => {
  const socket = connect({ host: "127.0.0.1", port: proxyPort });
  socket.setTimeout(2_000);
  const skip = password === undefined ? 0 : 1;
  try {
    return await new Promise<Landing | null>((resolve) => {
      let answer = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        answer = Buffer.concat([answer, chunk]);
        const parsed = parseRespReplies(answer, skip + 2);
        if (parsed.kind === "invalid") resolve(null);
        if (parsed.kind !== "complete") return;
        const [set, info] = parsed.replies.slice(skip);
        const text = info?.type === "bulk" ? (info.text ?? "") : "";
        const port = infoField(text, "tcp_port");
        resolve({
          wrote: set?.type === "simple" && set.text === "OK",
          port: port === undefined ? undefined : Number(port),
        });
      });
      for (const event of ["error", "timeout", "end", "close"])
        socket.on(event, () => resolve(null));
      socket.write(
        encodeRespPipeline([
          ...(password === undefined ? [] : [["AUTH", password]]),
          ["SET", "k", "v"],
          ["INFO", "server"],
        ]),
      );
    });
  } finally {
    socket.destroy();
  }
};

/** Clients through the proxy, one after another, until one writes on `serverPort` (bounded). */
export const landingOn = async (
  proxyPort: number,
  serverPort: number,
  boundMs: number,
  password?: string,
): Promise<Landing | null> => {
  const begun = Date.now();
  let landed: Landing | null = null;
  while (Date.now() - begun < boundMs) {
    landed = await landing(proxyPort, password);
    if (landed?.wrote === true && landed.port === serverPort) break;
    await sleep(5);
  }
  return landed;
};
