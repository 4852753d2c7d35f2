/** Loopback plumbing: free ports, readiness by connecting, and the Node echo backends. */
import { once } from "node:events";
import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export const HOST = "127.0.0.1";

/** A port that was free a moment ago: bind :0, read it, close. */
export const freePort = async (): Promise<number> => {
  const server = createServer();
  server.listen(0, HOST);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
};

const tryConnect = (port: number, timeoutMs: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });

/**
 * Waits until something accepts connections on `port`: up to `tries` connects, 25 ms apart.
 * `alive` lets a dead server fail fast instead of using up the retries.
 */
export const waitForPort = async (
  port: number,
  what: string,
  alive: () => boolean = () => true,
  tries = 400,
): Promise<void> => {
  for (let i = 0; i < tries; i++) {
    if (!alive()) throw new Error(`${what} exited before listening on ${port}`);
    if (await tryConnect(port, 500)) return;
    await sleep(25);
  }
  throw new Error(`${what} did not listen on ${port} after ${tries} tries`);
};

export const TOKEN_BYTES = 8;

/**
 * An echo server the harness controls: it can be killed (listener closed, connections reset, so
 * connects are refused) and restarted on the same port, and it records which clients' tokens (the
 * first TOKEN_BYTES of a connection) it served.
 */
export class EchoBackend {
  readonly tokens = new Set<string>();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(public port: number) {}

  static async start(port = 0): Promise<EchoBackend> {
    const backend = new EchoBackend(port);
    await backend.listen();
    return backend;
  }

  get connections(): number {
    return this.sockets.size;
  }

  async listen(): Promise<void> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.setNoDelay(true);
      socket.on("error", () => undefined);
      socket.once("close", () => this.sockets.delete(socket));
      let head = "";
      const onData = (chunk: Buffer): void => {
        head += chunk.toString("latin1");
        if (head.length >= TOKEN_BYTES) {
          this.tokens.add(head.slice(0, TOKEN_BYTES));
          socket.off("data", onData);
        }
      };
      socket.on("data", onData);
      socket.pipe(socket);
    });
    // The old port may still be taken for a moment after a kill: a few bounded retries.
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(this.port, HOST, () => {
            server.off("error", reject);
            resolve();
          });
        });
        break;
      } catch (error) {
        if (attempt >= 20) throw error;
        await sleep(25);
      }
    }
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops accepting and resets every open connection: new connects are refused. */
  kill(): void {
    this.server?.close();
    this.server = undefined;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    const server = this.server;
    this.kill();
    if (server !== undefined && server.listening) await once(server, "close");
  }
}

/**
 * Connects, sends `payload` and waits for it to come back; resolves with the open socket, or
 * rejects after `timeoutMs` (the socket is then destroyed).
 */
export const echoConnection = (port: number, payload: string, timeoutMs: number): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    socket.setNoDelay(true);
    let received = "";
    const fail = (reason: string): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(reason));
    };
    const timer = setTimeout(() => fail("timeout"), timeoutMs);
    socket.once("connect", () => socket.write(payload));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (received.length < payload.length) return;
      clearTimeout(timer);
      for (const event of ["data", "error", "close"]) socket.removeAllListeners(event);
      socket.on("error", () => undefined);
      if (received === payload) resolve(socket);
      else fail(`wrong echo ${JSON.stringify(received)}`);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
    socket.once("close", () => fail("closed"));
  });
