import { type Socket, connect } from "node:net";
import type { Address } from "../domain/backend.js";
import { formatDuration } from "../domain/duration.js";
import { MAX_TIMER_DELAY_MS } from "../domain/timer-limit.js";

const ignoreError = (): void => undefined;

export type DialOutcome =
  | { readonly ok: true; readonly socket: Socket }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly aborted: boolean;
      /** This host ran out of something (descriptors, buffers, ports): no verdict on the backend. */
      readonly local: boolean;
    };

/** Errors that say this host is short of a resource, whatever the backend: what it lacks. */
const localShortages: ReadonlyMap<string, string> = new Map([
  ["EMFILE", "too many open files in this process"],
  ["ENFILE", "too many open files in the system"],
  ["ENOBUFS", "no buffer space"],
  ["EADDRNOTAVAIL", "no local address or port free"],
  ["ENOMEM", "out of memory"],
]);

export const isLocalDialError = (error: NodeJS.ErrnoException): boolean =>
  localShortages.has(error.code ?? "");

/** Node's message for a local failure names no peer ("- Local (undefined:undefined)"): say what is short. */
const failedWith = (error: NodeJS.ErrnoException): DialOutcome => {
  const shortage = localShortages.get(error.code ?? "");
  if (shortage === undefined)
    return { ok: false, reason: error.message, aborted: false, local: false };
  return { ok: false, reason: `${shortage} (${error.code})`, aborted: false, local: true };
};

/**
 * Opens a TCP connection, giving up after `timeoutMs`. The hostname is resolved on every dial,
 * so DNS changes are followed. Returns the socket at once so the caller can abort (destroy) it;
 * `done` is called exactly once.
 */
/** Reads straight into a caller's buffer instead of through the socket's Readable stream. */
export interface OnRead {
  readonly buffer: Buffer;
  /** Gets each chunk while `buffer` holds it; returning false pauses reading. */
  readonly callback: (bytes: number, buffer: Buffer) => boolean;
}

export const dialWithTimeout = (
  address: Address,
  timeoutMs: number,
  done: (outcome: DialOutcome) => void,
  onread?: OnRead,
): Socket => {
  const socket = connect({
    host: address.host,
    port: address.port,
    allowHalfOpen: true,
    noDelay: true,
    // A socket timer holds at most 2^31-1 ms (24.8 days); the OS gives up on a connect far sooner.
    timeout: Math.min(timeoutMs, MAX_TIMER_DELAY_MS),
    ...(onread === undefined ? {} : { onread }),
  });
  let settled = false;
  const settle = (outcome: DialOutcome): void => {
    if (settled) return;
    settled = true;
    socket.removeListener("connect", onConnect);
    socket.removeListener("timeout", onTimeout);
    socket.removeListener("close", onClose);
    // Drop every closure of this dial, so a long-lived connection does not keep them alive;
    // a shared listener keeps the socket safe until the caller adds its own.
    socket.removeListener("error", onError);
    socket.on("error", ignoreError);
    done(outcome);
  };
  const onConnect = (): void => {
    socket.setTimeout(0);
    settle({ ok: true, socket });
  };
  const onTimeout = (): void => {
    socket.destroy();
    settle({
      ok: false,
      reason: `connect timeout after ${formatDuration(timeoutMs)}`,
      aborted: false,
      local: false,
    });
  };
  const onClose = (): void =>
    settle({ ok: false, reason: "connect aborted", aborted: true, local: false });
  // An unhandled 'error' would crash the process: a listener is attached before anything else.
  const onError = (error: Error): void => settle(failedWith(error));
  socket.on("error", onError);
  socket.once("connect", onConnect);
  socket.once("timeout", onTimeout);
  socket.once("close", onClose);
  return socket;
};
