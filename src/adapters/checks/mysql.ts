import { Observable } from "rxjs";
import type { Connection } from "mysql2";
import type { Address } from "../../domain/backend.js";
import type { CheckSettings } from "../../domain/check.js";
import { formatDuration } from "../../domain/duration.js";
import { judgeMysqlAnswer } from "../../domain/mysql-greeting.js";
import type { Probe, ProbeResult } from "../../domain/probe.js";
import { exchange } from "./exchange.js";
import { MAX_TIMER_DELAY_MS } from "../../domain/timer-limit.js";

/** Who the plain check says it is when no user is set; an account without password keeps logs quiet. */
export const DEFAULT_CHECK_USER = "tcp-fallback";

const CLIENT_LONG_PASSWORD = 0x1;
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_SECURE_CONNECTION = 0x8000;
const UTF8_GENERAL_CI = 33;
const COM_QUIT = 0x01;
const MAX_PACKET_BYTES = 16 * 1024 * 1024;

const packet = (sequence: number, payload: Buffer): Buffer => {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequence;
  return Buffer.concat([header, payload]);
};

/**
 * A login without password for `user`, then QUIT. Sent as soon as the socket connects (the server
 * reads it after its greeting): a client that closes without answering the greeting counts as a
 * handshake error, and after max_connect_errors of them the server blocks the proxy's host.
 * A login attempt, even a refused one, does not count.
 */
export const loginAttempt = (user: string): Buffer => {
  const fixed = Buffer.alloc(32); // capabilities, max packet size, charset, 23 reserved bytes
  fixed.writeUInt32LE(CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION, 0);
  fixed.writeUInt32LE(MAX_PACKET_BYTES, 4);
  fixed[8] = UTF8_GENERAL_CI;
  const login = Buffer.concat([
    fixed,
    Buffer.from(`${user}\0`, "utf8"),
    Buffer.from([0]), // an empty auth response: no password
  ]);
  return Buffer.concat([packet(1, login), packet(0, Buffer.from([COM_QUIT]))]);
};

/**
 * Who the plain check says it is. It never sends a password, so an account that has one (the
 * primary check's) is left alone: failed logins in a row may lock it (MySQL's
 * FAILED_LOGIN_ATTEMPTS, MariaDB's max_password_errors) for every client.
 */
export const plainCheckUser = (settings: CheckSettings): string =>
  settings.password === undefined ? (settings.user ?? DEFAULT_CHECK_USER) : DEFAULT_CHECK_USER;

/**
 * `-check=mysql`: the server greets (protocol 10) and answers a login attempt without password.
 * An error packet instead (host blocked, too many connections) fails with the server's message.
 * The server counts connections after the login, so only an account that can log in (no
 * password, no privileges) lets the check see "Too many connections"; "Access denied" is alive.
 */
export const mysqlCheck = (settings: CheckSettings): Probe => {
  const request = loginAttempt(plainCheckUser(settings));
  return (backend) => exchange(backend.address, settings.timeoutMs, request, judgeMysqlAnswer);
};

const messageOf = (error: unknown): string =>
  error instanceof Error && error.message !== "" ? error.message : String(error);

/** The driver's message; a dropped connection in the words the other checks use. */
const reasonOf = (error: unknown): string =>
  (error as { code?: unknown }).code === "PROTOCOL_CONNECTION_LOST"
    ? "closed the connection"
    : messageOf(error);

/** QUIT politely, but never leave the socket open past `boundMs` if the server does not close. */
const quit = (connection: Connection, boundMs: number): void => {
  const force = setTimeout(() => connection.destroy(), Math.min(boundMs, MAX_TIMER_DELAY_MS));
  force.unref();
  connection.end(() => {
    clearTimeout(force);
    connection.destroy();
  });
};

/** Asks one server whether it is writable; never errors, closes the connection on every path. */
const askReadOnly = (address: Address, settings: CheckSettings): Observable<ProbeResult> =>
  new Observable<ProbeResult>((subscriber) => {
    const started = Date.now();
    let connection: Connection | undefined;
    let settled = false;
    const finish = (result: ProbeResult, graceful: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(bound);
      if (connection !== undefined) {
        if (graceful) quit(connection, settings.timeoutMs);
        else connection.destroy();
      }
      subscriber.next({ ...result, latencyMs: Date.now() - started });
      subscriber.complete();
    };
    const fail = (error: unknown): void => finish({ ok: false, reason: reasonOf(error) }, false);
    // Our own bound: a server that accepts and never answers must not keep the socket.
    const bound = setTimeout(
      () =>
        finish(
          { ok: false, reason: `no answer within ${formatDuration(settings.timeoutMs)}` },
          false,
        ),
      // A Node timer holds at most 2^31-1 ms (24.8 days); a longer bound would fire at once.
      Math.min(settings.timeoutMs, MAX_TIMER_DELAY_MS),
    );
    // Loaded on first use, so a proxy that never checks a database never loads the driver.
    import("mysql2").then((mysql) => {
      if (settled) return;
      connection = mysql.createConnection({
        host: address.host,
        port: address.port,
        user: settings.user,
        password: settings.password,
        database: settings.database,
        connectTimeout: Math.min(settings.timeoutMs, MAX_TIMER_DELAY_MS),
      });
      // Fatal errors with no command waiting arrive here; afterwards they are ignored.
      connection.on("error", fail);
      connection.query("SELECT @@global.read_only AS read_only", (error, rows) => {
        if (error) return fail(error);
        const value = (rows as ReadonlyArray<{ read_only?: unknown }>)[0]?.read_only;
        const readOnly = Number(value);
        if (value === undefined || value === null || Number.isNaN(readOnly))
          return finish({ ok: false, reason: "no value for @@global.read_only" }, true);
        finish(
          readOnly === 0
            ? { ok: true, role: "primary" }
            : { ok: false, reason: `read_only=${readOnly}` },
          true,
        );
      });
    }, fail);
    return () => {
      if (settled) return;
      settled = true;
      clearTimeout(bound);
      connection?.destroy();
    };
  });

/**
 * `-check=mysql-primary`: logs in (user, password, optional database) and asks
 * `SELECT @@global.read_only`; 0 is a primary, 1 fails with `read_only=1`. Login and SQL errors
 * fail with the driver's message. Needs no privilege beyond the login.
 */
export const mysqlPrimaryCheck =
  (settings: CheckSettings): Probe =>
  (backend) =>
    askReadOnly(backend.address, settings);
