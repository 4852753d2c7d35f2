import { type ChildProcess, type SpawnOptions, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { access, cp, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Connection, createConnection } from "mysql2/promise";
import { refusedPort } from "./net.js";

const run = promisify(execFile);

const SERVER_BINARY = "/usr/sbin/mariadbd";
const INSTALL_BINARY = "/usr/bin/mariadb-install-db";
/** util-linux: runs the server with a parent-death signal. */
const SETPRIV = "/usr/bin/setpriv";
const SERVER_STDIO: SpawnOptions = { stdio: ["ignore", "ignore", "pipe"] };
/** Start-up takes well under a second here; a busy CI box gets far more. */
const START_BOUND_MS = 30_000;
const STOP_BOUND_MS = 10_000;

/** The login the checks use; it has no privileges beyond logging in. */
export const CHECK_USER = "checker";
export const CHECK_PASSWORD = "pw";

export interface MariaDbServer {
  readonly port: number;
  /** "127.0.0.1:port", for backend lists. */
  readonly address: string;
  readonly pid: number;
  /** How long install plus start-up took. */
  readonly startMs: number;
  /** Runs one statement as root over the Unix socket. */
  sql(query: string): Promise<unknown>;
  /** Everything the server wrote to stderr (its log) so far. */
  log(): string;
  /** SIGTERM, SIGKILL after a bound; removes the data directory. */
  stop(): Promise<void>;
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

const requireBinary = async (path: string): Promise<void> => {
  try {
    await access(path);
  } catch {
    throw new Error(`${path} is missing: install the Debian package mariadb-server`);
  }
};

const stopProcess = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_BOUND_MS);
  await exited;
  clearTimeout(timer);
};

type Started =
  | { readonly child: ChildProcess; readonly port: number; readonly log: () => string }
  | { readonly inUse: true };

/** Spawns the server and resolves once it says it is ready; rejects (after a stop) if it dies. */
const spawnServer = async (
  dir: string,
  port: number,
  extraArgs: ReadonlyArray<string>,
): Promise<Started> => {
  const serverArgs = [
    "--no-defaults",
    `--datadir=${join(dir, "data")}`,
    `--socket=${join(dir, "sock")}`,
    `--pid-file=${join(dir, "pid")}`,
    `--port=${port}`,
    "--bind-address=127.0.0.1",
    "--user=root",
    "--skip-log-bin",
    "--skip-name-resolve",
    "--innodb-buffer-pool-size=16M",
    "--innodb-log-file-size=4M",
    ...extraArgs,
  ];
  // The server dies with this process even when a test timeout kills it (no hooks run then).
  const child = (await exists(SETPRIV))
    ? spawn(SETPRIV, ["--pdeathsig", "KILL", SERVER_BINARY, ...serverArgs], SERVER_STDIO)
    : spawn(SERVER_BINARY, serverArgs, SERVER_STDIO);
  let text = "";
  const log = (): string => text;
  const outcome = new Promise<"ready" | "exited">((resolve) => {
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      text += chunk;
      if (text.includes("ready for connections")) resolve("ready");
    });
    child.once("exit", () => resolve("exited"));
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), START_BOUND_MS);
  });
  const result = await Promise.race([outcome, timedOut]);
  clearTimeout(timer);
  if (result === "ready") return { child, port, log };
  await stopProcess(child);
  if (/already in use|Address in use/i.test(text)) return { inUse: true };
  throw new Error(
    `mariadbd ${result === "timeout" ? "did not get ready" : "exited"} on port ${port}:\n${text.slice(-2000)}`,
  );
};

const TEMP_PREFIX = "tcp-fallback-mariadb-";

/** A temp dir that names the process that made it, so a later run can tell it was abandoned. */
const ownedTempDir = async (prefix: string): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(join(dir, "owner"), String(process.pid));
  return dir;
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Removes the dirs of runs a test timeout killed (their servers died with them). */
const sweepAbandoned = async (): Promise<void> => {
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const owner = Number(await readFile(join(dir, "owner"), "utf8").catch(() => ""));
    if (owner > 0 && !alive(owner)) await rm(dir, { recursive: true, force: true });
  }
};

let templateDir: Promise<string> | undefined;

/**
 * One installed data directory per test process, copied for each server: installing takes most
 * of a start-up (and far longer on a busy disk); a copy of its 20 MB does not.
 */
const template = (): Promise<string> => {
  templateDir ??= (async () => {
    await sweepAbandoned();
    const dir = await ownedTempDir(`${TEMP_PREFIX}template-`);
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    await run(INSTALL_BINARY, [
      "--no-defaults",
      `--datadir=${join(dir, "data")}`,
      "--auth-root-authentication-method=normal",
      "--user=root",
      "--skip-test-db",
      "--skip-name-resolve",
      "--innodb-buffer-pool-size=16M",
      "--innodb-log-file-size=4M",
    ]);
    return join(dir, "data");
  })();
  return templateDir;
};

/**
 * A throwaway MariaDB on 127.0.0.1 in a temp dir: root logs in over the socket without password,
 * and `checker`/`pw` over TCP with no privileges. `extraArgs` go to mariadbd.
 */
export const startMariaDb = async (
  extraArgs: ReadonlyArray<string> = [],
): Promise<MariaDbServer> => {
  await requireBinary(SERVER_BINARY);
  await requireBinary(INSTALL_BINARY);
  const started = Date.now();
  const dir = await ownedTempDir(TEMP_PREFIX);
  try {
    await cp(await template(), join(dir, "data"), { recursive: true });
    let spawned = await spawnServer(dir, await refusedPort(), extraArgs);
    // Another process may take the free port before the server binds it: one more try.
    if ("inUse" in spawned) spawned = await spawnServer(dir, await refusedPort(), extraArgs);
    if ("inUse" in spawned) throw new Error("mariadbd found no free port twice");
    const { child, port, log } = spawned;
    // A process that exits without stopping it (a failed hook) still takes it down and cleans up.
    const killOnExit = (): void => {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    };
    process.once("exit", killOnExit);
    let root: Connection;
    try {
      root = await createConnection({ socketPath: join(dir, "sock"), user: "root" });
      await root.query(`CREATE USER '${CHECK_USER}'@'%' IDENTIFIED BY '${CHECK_PASSWORD}'`);
    } catch (error) {
      process.removeListener("exit", killOnExit);
      await stopProcess(child);
      throw error;
    }
    return {
      port,
      address: `127.0.0.1:${port}`,
      pid: child.pid ?? 0,
      startMs: Date.now() - started,
      sql: async (query) => (await root.query(query))[0],
      log,
      stop: async () => {
        process.removeListener("exit", killOnExit);
        root.destroy();
        await stopProcess(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
};
