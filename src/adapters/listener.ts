import { type AddressInfo, type Server, type Socket, createServer } from "node:net";
import type { Address } from "../domain/backend.js";
import { formatAddress } from "../domain/backend.js";

/**
 * Listens for clients. Sockets are half-open capable (a client's FIN must not end our reply
 * path) and send small writes at once. Resolves once bound; rejects with a message naming
 * the address if it cannot bind.
 */
export const listen = (address: Address, onClient: (socket: Socket) => void): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer({ allowHalfOpen: true, noDelay: true }, onClient);
    const onListenError = (error: NodeJS.ErrnoException): void => {
      const why = error.code === "EADDRINUSE" ? "address already in use" : error.message;
      reject(new Error(`cannot listen on ${formatAddress(address)}: ${why}`));
    };
    server.once("error", onListenError);
    server.listen(
      { host: address.host === "" ? undefined : address.host, port: address.port },
      () => {
        server.removeListener("error", onListenError);
        resolve(server);
      },
    );
  });

export const boundAddress = (server: Server): AddressInfo => server.address() as AddressInfo;

/** The listening handle's stream calls (not in Node's typings). */
interface ListenHandle {
  readStart(): number;
  readStop(): number;
}

const handleOf = (server: Server): Partial<ListenHandle> | undefined =>
  (server as unknown as { _handle?: Partial<ListenHandle> | null })._handle ?? undefined;

/**
 * Whether accepting can pause on this listener, which is then accepting. Node has no call to
 * stop taking connections off a listening socket short of closing it (which would reset the
 * clients in its queue); a listening handle that is also readable (one a worker gets from the
 * primary) stops polling for connections on `readStop` and starts again on `readStart`. A
 * handle bound in this process is not readable: `readStart` says so (ENOTCONN) and changes
 * nothing.
 */
export const canPauseAccepting = (server: Server): boolean => {
  const handle = handleOf(server);
  return typeof handle?.readStart === "function" && handle.readStart() === 0;
};

/** Stops accepting: new clients wait in the kernel's backlog, their handshake done, unreset. */
export const pauseAccepting = (server: Server): void => {
  handleOf(server)?.readStop?.();
};

export const resumeAccepting = (server: Server): void => {
  handleOf(server)?.readStart?.();
};
