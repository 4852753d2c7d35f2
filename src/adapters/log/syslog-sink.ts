import { Buffer } from "node:buffer";
import { getSystemErrorMap } from "node:util";
import { createSocket, type UnixDgramError, type UnixDgramSocket } from "unix-dgram";

import type { LogLevelName } from "../../domain/logger.js";
import { describeError, FailureReport } from "./failure-report.js";
import type { LogSink } from "./sink.js";

export interface SyslogOptions {
  /** The program name syslog files the lines under. */
  ident?: string;
  now?: () => Date;
}

const FACILITY_DAEMON = 3;
const SEVERITY: Record<LogLevelName, number> = { debug: 7, info: 6, warn: 4, error: 3 };
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
// Lines held while the daemon's receive buffer is full; beyond this they are dropped.
const MAX_BACKLOG = 1000;
// unix-dgram silently truncates longer paths (sizeof sun_path - 1), which would connect elsewhere.
const MAX_SOCKET_PATH = process.platform === "linux" ? 107 : 103;

/** RFC 3164: `<PRI>Mmm dd hh:mm:ss IDENT[PID]: message`, local time, day padded with a space. */
export function formatSyslogDatagram(
  at: Date,
  level: LogLevelName,
  ident: string,
  message: string,
): string {
  const pri = FACILITY_DAEMON * 8 + SEVERITY[level];
  const two = (n: number): string => String(n).padStart(2, "0");
  const stamp = `${MONTHS[at.getMonth()]} ${String(at.getDate()).padStart(2, " ")} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
  return `<${pri}>${stamp} ${ident}[${process.pid}]: ${message}`;
}

/**
 * Sends each line as one datagram to the local syslog daemon. Rejects if the socket cannot be
 * connected. Note an open sink keeps the event loop alive (unix-dgram polls the socket) until
 * close().
 */
export async function openSyslogSink(
  socketPath = "/dev/log",
  options: SyslogOptions = {},
): Promise<LogSink> {
  const socket = connectSocket(socketPath);
  return new SyslogSink(
    socketPath,
    socket,
    options.ident ?? "tcp-fallback",
    options.now ?? (() => new Date()),
  );
}

/** Turns unix-dgram's negative errno numbers into `ENOENT (no such file or directory)`. */
function errnoText(err: unknown): string {
  const code = (err as UnixDgramError | undefined)?.code;
  if (typeof code === "number" && code < 0) {
    const entry = getSystemErrorMap().get(code);
    if (entry) return `${entry[0]} (${entry[1]})`;
  }
  return describeError(err);
}

function connectSocket(path: string): UnixDgramSocket {
  const fail = (reason: string, cause?: unknown): Error =>
    new Error(`cannot connect to syslog at ${path}: ${reason}`, { cause });
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw fail(`ENAMETOOLONG (socket path longer than ${MAX_SOCKET_PATH} bytes)`);
  }
  let socket: UnixDgramSocket;
  try {
    socket = createSocket("unix_dgram");
  } catch (err) {
    throw fail(errnoText(err), err);
  }
  let failure: unknown;
  // connect() reports through a synchronous 'error' event, which would throw without a listener.
  socket.on("error", (err: UnixDgramError) => {
    failure = err;
  });
  socket.connect(path);
  if (failure !== undefined || !socket.connected) {
    closeQuietly(socket);
    throw fail(failure === undefined ? "not connected" : errnoText(failure), failure);
  }
  return socket;
}

function closeQuietly(socket: UnixDgramSocket): void {
  try {
    socket.close();
  } catch {
    // Already unusable; nothing to release.
  }
}

type SendResult = "sent" | "congested" | Error;

class SyslogSink implements LogSink {
  /** Undefined once closed, or after a failed reconnect (the next write tries again). */
  private socket: UnixDgramSocket | undefined;
  /**
   * Datagrams not yet handed to the kernel, oldest first. It only grows while the daemon's receive
   * buffer is full; the socket's 'writable' event resumes sending.
   */
  private readonly backlog: Buffer[] = [];
  private closed = false;
  private readonly report: FailureReport;

  constructor(
    private readonly path: string,
    socket: UnixDgramSocket,
    private readonly ident: string,
    private readonly now: () => Date,
  ) {
    this.report = new FailureReport(`syslog at ${path}`);
    this.adopt(socket);
  }

  write(level: LogLevelName, message: string): void {
    if (this.closed) return;
    if (this.backlog.length >= MAX_BACKLOG) {
      this.report.failed(new Error("daemon not keeping up, dropping log lines"));
      return;
    }
    this.backlog.push(Buffer.from(formatSyslogDatagram(this.now(), level, this.ident, message)));
    this.pump();
  }

  reopen(): void {}

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.pump();
      this.backlog.length = 0;
      this.dropSocket();
    }
    return Promise.resolve();
  }

  private adopt(socket: UnixDgramSocket): void {
    this.socket = socket;
    socket.on("writable", () => {
      if (this.socket === socket) this.pump();
    });
  }

  /** Sends the backlog in order until it is empty or the daemon's buffer is full. */
  private pump(): void {
    for (;;) {
      const head = this.backlog[0];
      if (head === undefined) return;
      let result = this.send(head);
      if (result instanceof Error) {
        // Typically the daemon restarted and recreated its socket: reconnect once and retry.
        const failure = this.reconnect();
        if (failure) {
          this.backlog.length = 0;
          this.report.failed(new Error(`dropping log lines: ${describeError(failure)}`));
          return;
        }
        result = this.send(head);
      }
      if (result === "congested") return;
      this.backlog.shift();
      if (result === "sent") this.report.succeeded();
      else this.report.failed(new Error(`dropping log line: ${errnoText(result)}`));
    }
  }

  private send(datagram: Buffer): SendResult {
    const socket = this.socket;
    if (socket === undefined) return new Error("not connected");
    // unix-dgram calls back synchronously, before send() returns.
    let result: SendResult = "sent";
    socket.send(datagram, (err?: UnixDgramError) => {
      if (err) result = err.code === 1 ? "congested" : err;
    });
    return result;
  }

  /** Returns why reconnecting failed, if it did. */
  private reconnect(): unknown {
    this.dropSocket();
    try {
      this.adopt(connectSocket(this.path));
      return undefined;
    } catch (err) {
      return err;
    }
  }

  private dropSocket(): void {
    const socket = this.socket;
    // Never close twice: unix-dgram's native close asserts on an unknown descriptor.
    this.socket = undefined;
    if (socket) closeQuietly(socket);
  }
}
