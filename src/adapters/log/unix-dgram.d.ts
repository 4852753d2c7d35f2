// Just the part of unix-dgram the syslog sink and its tests use; the package ships no types.
declare module "unix-dgram" {
  import { EventEmitter } from "node:events";

  /** `code` and `errno` are negative errno numbers (e.g. -2), or 1 for congestion; not names. */
  export interface UnixDgramError extends Error {
    code?: number;
    errno?: number;
    syscall?: string;
  }

  export interface MessageInfo {
    size: number;
    path: string | null;
  }

  // Every event and callback fires synchronously inside the call that caused it.
  export interface UnixDgramSocket extends EventEmitter {
    readonly connected?: boolean;
    bind(path: string): void;
    connect(path: string): void;
    /** Connected form. */
    send(buf: Buffer, callback?: (err?: UnixDgramError) => void): void;
    send(
      buf: Buffer,
      offset: number,
      length: number,
      path: string,
      callback?: (err?: UnixDgramError) => void,
    ): void;
    /** Throws on failure; calling it twice aborts the process (native assert). */
    close(): void;
  }

  export function createSocket(
    type: "unix_dgram",
    listener?: (message: Buffer, info: MessageInfo) => void,
  ): UnixDgramSocket;
}
