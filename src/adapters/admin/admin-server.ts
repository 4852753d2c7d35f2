import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Address } from "../../domain/backend.js";
import { type AdminRoutesOptions, createAdminRoutes } from "./admin-routes.js";

export type { AdminHandler } from "./admin-routes.js";

export interface AdminServerOptions extends AdminRoutesOptions {
  readonly address: Address;
}

export interface AdminServer {
  /** Resolves with the bound address; rejects with a message naming the address. */
  readonly listening: Promise<AddressInfo>;
  /** Stops listening and ends every open connection, event streams included. */
  close(): Promise<void>;
}

/** A slow client gets this long to send its request (headers and body). */
export const ADMIN_REQUEST_TIMEOUT_MS = 5_000;

/** The admin HTTP server: the admin routes on a server of its own, with request timeouts. */
export const startAdminServer = (options: AdminServerOptions): AdminServer => {
  const { logger } = options;
  const routes = createAdminRoutes(options);
  const server = createServer(routes.listener);

  server.requestTimeout = ADMIN_REQUEST_TIMEOUT_MS;
  server.headersTimeout = ADMIN_REQUEST_TIMEOUT_MS;

  const listening = new Promise<AddressInfo>((resolve, reject) => {
    const onError = (error: Error): void =>
      reject(new Error(`admin: cannot listen on ${describe(options.address)}: ${error.message}`));
    server.once("error", onError);
    server.listen(options.address.port, options.address.host || undefined, () => {
      server.off("error", onError);
      server.on("error", (error) => logger.error(`Admin server: ${error.message}`));
      resolve(server.address() as AddressInfo);
    });
  });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      routes.close();
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };

  return { listening, close };
};

const describe = ({ host, port }: Address): string =>
  host.includes(":") ? `[${host}]:${port}` : `${host === "" ? "*" : host}:${port}`;
