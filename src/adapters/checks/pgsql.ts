/**
 * PostgreSQL checks: `pgsql` asks whether the server speaks the protocol (no login), and
 * `pgsql-primary` logs in and asks whether it is in recovery (a replica) or takes writes.
 */
import { Socket } from "node:net";
import { Observable } from "rxjs";
import type { Client } from "pg";
import type { Address } from "../../domain/backend.js";
import type { CheckSettings } from "../../domain/check.js";
import { formatDuration } from "../../domain/duration.js";
import type { Probe, ProbeResult } from "../../domain/probe.js";
import { MAX_TIMER_DELAY_MS } from "../../domain/timer-limit.js";
import { type Judge, MAX_ANSWER_BYTES, exchange } from "./exchange.js";

/** Length 8, then the SSLRequest code 80877103 (1234 << 16 | 5679): every server answers one byte. */
export const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

const NO_SSL = 0x4e; // 'N'
const SSL = 0x53; // 'S'
const ERROR = 0x45; // 'E'

/** A few bytes of an answer, printable, for a failure's reason. */
const preview = (answer: Buffer): string => {
  const text = answer.subarray(0, 16).toString("latin1");
  return JSON.stringify(text) + (answer.length > 16 ? "..." : "");
};

/** The answer to an SSLRequest is exactly one byte, `N` or `S`; then the server waits for us. */
export const judgeSslAnswer: Judge = (answer) => {
  if (answer.length === 0) return null;
  if (answer.length === 1 && (answer[0] === NO_SSL || answer[0] === SSL)) return { ok: true };
  if (answer[0] === ERROR)
    return { ok: false, reason: "not a PostgreSQL answer: an error message to the SSL request" };
  return { ok: false, reason: `not a PostgreSQL answer: ${preview(answer)}` };
};

/**
 * Passes when the backend answers an SSLRequest as a PostgreSQL server does. No login, so no
 * credentials and nothing in the server's connection slots beyond a moment.
 */
export const pgsqlCheck =
  (settings: CheckSettings): Probe =>
  (backend) =>
    exchange(backend.address, settings.timeoutMs, SSL_REQUEST, judgeSslAnswer);

const ignore = (): void => undefined;

/** Node's errors for a failed dial to several addresses have an empty message; say something. */
const messageOf = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  if (error.message !== "") return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  return code ?? error.name;
};

/**
 * The driver's socket, made safe against a bad peer: its parser throws on some garbage from
 * inside a 'data' listener, which would be an uncaught exception; here it fails the connection.
 * It also stops reading past MAX_ANSWER_BYTES: a login and one row need far less.
 */
class GuardedSocket extends Socket {
  private received = 0;

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === "data") {
      this.received += (args[0] as Buffer).length;
      if (this.received > MAX_ANSWER_BYTES) {
        this.destroy(new Error(`no valid answer in the first ${MAX_ANSWER_BYTES} bytes`));
        return false;
      }
    }
    try {
      return super.emit(event, ...args);
    } catch (error) {
      this.destroy(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
  }
}

/**
 * Closes the driver's connection. After a verdict, politely (a Terminate message), yet a peer
 * that never closes its side loses the socket after `boundMs`; on a timeout, at once.
 */
const closeClient = (client: Client, polite: boolean, boundMs: number): void => {
  const socket = client.connection.stream as Socket;
  if (!polite) {
    socket.destroy();
    return;
  }
  client.end().catch(ignore);
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), Math.min(boundMs, MAX_TIMER_DELAY_MS));
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
};

/** The bound as a timer can hold it: a longer one would fire at once (the OS gives up far sooner). */
const boundOf = (settings: CheckSettings): number =>
  Math.min(settings.timeoutMs, MAX_TIMER_DELAY_MS);

interface RecoveryRow {
  readonly in_recovery: unknown;
}

/**
 * Logs in and asks. `opened` gets the client before it connects, so it can be closed; it says
 * false when the check was given up meanwhile, and then nothing connects.
 */
const askRecovery = async (
  settings: CheckSettings,
  address: Address,
  opened: (client: Client) => boolean,
): Promise<ProbeResult> => {
  // Loaded on the first check: a program that never checks PostgreSQL never loads the driver.
  const pg = (await import("pg")).default;
  const client = new pg.Client({
    host: address.host,
    port: address.port,
    user: settings.user,
    password: settings.password,
    database: settings.database ?? "postgres",
    connectionTimeoutMillis: boundOf(settings),
    application_name: "tcp-fallback check",
    stream: () => new GuardedSocket(),
  });
  // An error after the verdict (the server going away) must not become an uncaught one.
  client.on("error", ignore);
  if (!opened(client)) return { ok: false, reason: "given up" };
  await client.connect();
  const { rows } = await client.query<RecoveryRow>("SELECT pg_is_in_recovery() AS in_recovery");
  const inRecovery = rows[0]?.in_recovery;
  if (inRecovery === false) return { ok: true, role: "primary" };
  if (inRecovery === true) return { ok: false, reason: "in recovery (replica)" };
  return { ok: false, reason: "no answer to pg_is_in_recovery()" };
};

/**
 * Passes when the backend takes a login and is not in recovery: a primary, not a replica.
 * Bounded by `timeoutMs` as a whole; never errors (a driver error is a failed check with its
 * message); closes the connection on every path, unsubscribing included.
 */
export const pgsqlPrimaryCheck =
  (settings: CheckSettings): Probe =>
  (backend) =>
    new Observable<ProbeResult>((subscriber) => {
      const started = Date.now();
      let client: Client | null = null;
      let settled = false;
      const settle = (result: ProbeResult, polite: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (client !== null) closeClient(client, polite, settings.timeoutMs);
        subscriber.next({ ...result, latencyMs: Date.now() - started });
        subscriber.complete();
      };
      const timer = setTimeout(
        () =>
          settle(
            { ok: false, reason: `no answer within ${formatDuration(settings.timeoutMs)}` },
            false,
          ),
        boundOf(settings),
      );
      // False once given up (timed out or unsubscribed while the driver loaded).
      const opened = (created: Client): boolean => {
        client = created;
        return !settled;
      };
      askRecovery(settings, backend.address, opened).then(
        (result) => settle(result, true),
        (error: unknown) => settle({ ok: false, reason: messageOf(error) }, true),
      );
      return () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (client !== null) closeClient(client, false, settings.timeoutMs);
      };
    });
