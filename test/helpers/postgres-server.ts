/**
 * Real PostgreSQL servers for tests: a primary in a temp dir on a free loopback port, and
 * streaming replicas of it. The Debian binaries live in /usr/lib/postgresql/VERSION/bin (not on
 * PATH); postgres refuses to run as root, so every server process runs as the `postgres` user.
 * A missing binary or user throws (a test failure, never a skip).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { access, chown, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { refusedPort } from "./net.js";

const BIN_ROOT = "/usr/lib/postgresql";
const START_BOUND_MS = 20_000;
const STOP_BOUND_MS = 10_000;

export const SUPERUSER = "postgres";
export const SUPERUSER_PASSWORD = "super-secret";
/** The check's user: LOGIN and CONNECT on the database, nothing more. */
export const CHECK_USER = "checker";
export const CHECK_PASSWORD = "checker-secret";
const REPLICATION_USER = "replicator";
const REPLICATION_PASSWORD = "replicator-secret";

/** Local socket: trust (for the server's own tools); TCP: passwords (scram), replication too. */
const HBA = [
  "local all all trust",
  "host all all 127.0.0.1/32 scram-sha-256",
  `host replication ${REPLICATION_USER} 127.0.0.1/32 scram-sha-256`,
  "",
].join("\n");

/** The newest installed version's directory of a binary, or a clear error. */
export const postgresBin = async (name: string): Promise<string> => {
  const versions = await readdir(BIN_ROOT).catch(() => [] as string[]);
  const sorted = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const version of sorted) {
    const path = join(BIN_ROOT, version, "bin", name);
    if (
      await access(path).then(
        () => true,
        () => false,
      )
    )
      return path;
  }
  throw new Error(
    `PostgreSQL's ${name} not found in ${BIN_ROOT}/*/bin: install the postgresql package`,
  );
};

interface Account {
  readonly uid: number;
  readonly gid: number;
}

const run = (file: string, args: ReadonlyArray<string>, env = {}): Promise<string> =>
  new Promise((resolve, reject) =>
    execFile(file, args, { env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      error === null
        ? resolve(stdout)
        : reject(new Error(`${file} ${args.join(" ")} failed: ${error.message}\n${stderr}`)),
    ),
  );

/** The `postgres` system user, or a clear error. */
const postgresAccount = async (): Promise<Account> => {
  const [uid, gid] = await Promise.all([
    run("id", ["-u", "postgres"]),
    run("id", ["-g", "postgres"]),
  ]).catch((error: unknown) => {
    throw new Error(`no "postgres" system user to run the server as (${String(error)})`);
  });
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
};

/** Runs a PostgreSQL tool as the postgres user; rejects with its output when it fails. */
const runAs = (
  account: Account,
  file: string,
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
): Promise<void> =>
  new Promise((resolve, reject) =>
    execFile(
      file,
      args,
      { uid: account.uid, gid: account.gid, env: { PATH: process.env.PATH ?? "", ...env } },
      (error, stdout, stderr) =>
        error === null
          ? resolve()
          : reject(new Error(`${file} failed: ${error.message}\n${stdout}${stderr}`)),
    ),
  );

export interface PostgresServer {
  readonly port: number;
  /** "127.0.0.1:port", as a backend. */
  readonly address: string;
  readonly dataDir: string;
  readonly pid: number;
  /** Runs one query as the superuser over TCP and returns its rows. */
  sql<T = Record<string, unknown>>(query: string): Promise<T[]>;
  /** Resolves when the server's log has a line matching `pattern` (seen before or later). */
  logLine(pattern: RegExp, boundMs: number): Promise<string>;
  /** The server's log so far (its stderr). */
  log(): string;
  /** Fast shutdown (SIGINT) by PID; SIGKILL after a bound. Safe to call more than once. */
  stop(): Promise<void>;
}

const sqlAt =
  (port: number) =>
  async <T>(query: string): Promise<T[]> => {
    const client = new pg.Client({
      host: "127.0.0.1",
      port,
      user: SUPERUSER,
      password: SUPERUSER_PASSWORD,
      database: "postgres",
      connectionTimeoutMillis: 5000,
    });
    client.on("error", () => undefined);
    try {
      await client.connect();
      return (await client.query(query)).rows as T[];
    } finally {
      await client.end();
    }
  };

const stopProcess = async (child: ChildProcess): Promise<void> => {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_BOUND_MS);
  await exited;
  clearTimeout(timer);
};

/**
 * Starts `postgres` on a free port and resolves once its log says it takes connections
 * (`readyPattern`). A port taken in between (bind failed) is retried once with another.
 */
const startServer = async (
  account: Account,
  dataDir: string,
  socketDir: string,
  readyPattern: RegExp,
  extra: ReadonlyArray<string> = [],
  port?: number,
  attempt = 1,
): Promise<PostgresServer> => {
  const postgres = await postgresBin("postgres");
  const chosen = port ?? (await refusedPort());
  // setpriv execs postgres as the postgres user (same PID), which gets SIGINT (a fast shutdown)
  // should this test process die without stopping it.
  const child = spawn(
    "setpriv",
    [
      ...[`--reuid=${account.uid}`, `--regid=${account.gid}`, "--clear-groups"],
      ...["--pdeathsig=INT", "--", postgres],
      ...["-D", dataDir, "-p", String(chosen), "-k", socketDir],
      ...["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "shared_buffers=16MB"],
      ...["-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=30"],
      ...["-c", "logging_collector=off", "-c", "log_min_messages=info"],
      ...extra,
    ],
    { env: { PATH: process.env.PATH ?? "", LC_ALL: "C" }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  let ended = false;
  const waiters = new Set<() => void>();
  const wakeAll = (): void => {
    for (const wake of waiters) wake();
  };
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    log += chunk;
    wakeAll();
  });
  child.on("error", (error) => {
    log += `cannot run setpriv (util-linux) to start postgres: ${error.message}\n`;
    ended = true;
    wakeAll();
  });
  child.on("exit", () => {
    ended = true;
    wakeAll();
  });
  const logLine = (pattern: RegExp, boundMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const line = log.split("\n").find((l) => pattern.test(l));
        if (line !== undefined) done(() => resolve(line));
        else if (ended)
          done(() => reject(new Error(`postgres exited before ${String(pattern)}:\n${log}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no ${String(pattern)} in ${boundMs} ms:\n${log}`))),
        boundMs,
      );
      const done = (then: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        then();
      };
      waiters.add(check);
      check();
    });
  const server: PostgresServer = {
    port: chosen,
    address: `127.0.0.1:${chosen}`,
    dataDir,
    pid: child.pid ?? -1,
    sql: sqlAt(chosen),
    logLine,
    log: () => log,
    stop: () => stopProcess(child),
  };
  try {
    await logLine(readyPattern, START_BOUND_MS);
  } catch (error) {
    await server.stop();
    if (port === undefined && attempt === 1 && /could not bind|already in use/i.test(log))
      return startServer(account, dataDir, socketDir, readyPattern, extra, undefined, 2);
    throw error;
  }
  return server;
};

export interface PostgresCluster {
  readonly primary: PostgresServer;
  /** Its streaming replica. */
  readonly replica: PostgresServer;
  /** How long start-up took (initdb, primary, base backup, replica), in ms. */
  readonly startupMs: number;
  readonly dir: string;
  /**
   * Starts a stopped server again on its port as a standby of `primary` (standby.signal and a
   * primary_conninfo), once it takes read-only connections. Whether it streams is up to its
   * history: see `logLine(STREAMING)`.
   */
  demote(stopped: PostgresServer, primary: PostgresServer): Promise<PostgresServer>;
  /** Stops every server started here and removes the temp dir. */
  stop(): Promise<void>;
}

const ready = /database system is ready to accept connections/;
const READY_READ_ONLY = /database system is ready to accept read-only connections/;
export const STREAMING = /started streaming WAL from primary/;

/**
 * A primary with roles `checker` (LOGIN, CONNECT on postgres only) and `replicator`, and a
 * streaming replica made with pg_basebackup, both on free loopback ports.
 */
export const startPostgresCluster = async (): Promise<PostgresCluster> => {
  const started = Date.now();
  const [initdb, basebackup, account] = await Promise.all([
    postgresBin("initdb"),
    postgresBin("pg_basebackup"),
    postgresAccount(),
  ]);
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-pgsql-"));
  const servers: PostgresServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await chown(dir, account.uid, account.gid);
    const primaryDir = join(dir, "primary");
    const replicaDir = join(dir, "replica");
    const pwfile = join(dir, "pwfile");
    await writeFile(pwfile, `${SUPERUSER_PASSWORD}\n`);
    await chown(pwfile, account.uid, account.gid);
    await runAs(account, initdb, [
      ...["-D", primaryDir, "-U", SUPERUSER, `--pwfile=${pwfile}`],
      ...["-A", "trust", "--auth-host=scram-sha-256", "--no-sync", "--no-instructions"],
      ...["-E", "UTF8", "--no-locale"],
    ]);
    await writeFile(join(primaryDir, "pg_hba.conf"), HBA);
    const primary = await startServer(account, primaryDir, dir, ready);
    servers.push(primary);
    await primary.sql(
      `CREATE ROLE ${CHECK_USER} LOGIN PASSWORD '${CHECK_PASSWORD}';` +
        `CREATE ROLE ${REPLICATION_USER} REPLICATION LOGIN PASSWORD '${REPLICATION_PASSWORD}';` +
        `REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;` +
        `GRANT CONNECT ON DATABASE postgres TO ${CHECK_USER};`,
    );
    // -R writes standby.signal and primary_conninfo (with the password); -c fast skips a wait.
    await runAs(
      account,
      basebackup,
      [
        ...["-h", "127.0.0.1", "-p", String(primary.port), "-U", REPLICATION_USER],
        ...["-D", replicaDir, "-R", "-X", "stream", "-c", "fast", "--no-sync"],
      ],
      { PGPASSWORD: REPLICATION_PASSWORD },
    );
    const replica = await startServer(account, replicaDir, dir, READY_READ_ONLY);
    servers.push(replica);
    await replica.logLine(STREAMING, START_BOUND_MS);
    const [row] = await replica.sql<{ recovering: boolean }>(
      "SELECT pg_is_in_recovery() AS recovering",
    );
    if (row?.recovering !== true) throw new Error("the replica is not in recovery");
    return {
      primary,
      replica,
      startupMs: Date.now() - started,
      dir,
      demote: async (stopped, newPrimary) => {
        const signal = join(stopped.dataDir, "standby.signal");
        await writeFile(signal, "");
        await chown(signal, account.uid, account.gid);
        const conninfo =
          `host=127.0.0.1 port=${newPrimary.port} user=${REPLICATION_USER} ` +
          `password=${REPLICATION_PASSWORD}`;
        const server = await startServer(
          account,
          stopped.dataDir,
          dir,
          READY_READ_ONLY,
          ["-c", `primary_conninfo=${conninfo}`],
          stopped.port,
        );
        servers.push(server);
        return server;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
};
