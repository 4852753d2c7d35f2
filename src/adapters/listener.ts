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
