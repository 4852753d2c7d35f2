import { spawn } from "node:child_process";
import { once } from "node:events";
import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";
import { createInterface } from "node:readline";

export interface TestBackend {
  readonly port: number;
  readonly address: string;
  readonly server: Server;
  /** Sockets this backend accepted, open or not (probes included). */
  readonly accepted: Socket[];
  /** How many accepted connections carried at least one byte (so probes do not count). */
  served(): number;
  close(): Promise<void>;
}

/** A loopback backend; by default it echoes and half-closes when the client does. */
export const startBackend = async (
  onSocket: (socket: Socket) => void = (socket) => socket.pipe(socket),
  port = 0,
): Promise<TestBackend> => {
  const accepted: Socket[] = [];
  const carried = new WeakSet<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    accepted.push(socket);
    socket.on("error", () => undefined);
    socket.once("data", () => carried.add(socket));
    onSocket(socket);
  });
  server.listen({ host: "127.0.0.1", port });
  await once(server, "listening");
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    address: `127.0.0.1:${bound}`,
    server,
    accepted,
    served: () => accepted.filter((socket) => carried.has(socket)).length,
    close: async () => {
      for (const socket of accepted) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** A backend that answers with everything it got, once the client has half-closed. */
export const startReplyAtEndBackend = (): Promise<TestBackend> =>
  startBackend((socket) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => socket.end(Buffer.concat(chunks)));
  });

/**
 * A loopback port with nothing listening on it: connects are refused. It is picked below the
 * range the system hands out for port 0 (32768 and up on Linux), so no test's ephemeral
 * listener can take it between this check and its use, as a port just closed could be.
 */
export const refusedPort = async (): Promise<number> => {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    if (await isRefused(port)) return port;
  }
  throw new Error("no refused port found on 127.0.0.1 in 10000-31999");
};

const isRefused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });

/** Connects to a loopback port and resolves once connected. */
export const connectTo = async (port: number, host = "127.0.0.1"): Promise<Socket> => {
  const socket = connect({ host, port, allowHalfOpen: true });
  await once(socket, "connect");
  return socket;
};

/** Reads everything until the peer's FIN (or close), as one Buffer. */
export const readAll = async (socket: Socket): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  await Promise.race([once(socket, "end"), once(socket, "close")]);
  return Buffer.concat(chunks);
};

/** Sends `data`, half-closes, and returns all the bytes that came back. */
export const roundTrip = async (port: number, data: Buffer | string): Promise<Buffer> => {
  const socket = await connectTo(port);
  const reply = readAll(socket);
  socket.end(data);
  const bytes = await reply;
  socket.destroy();
  return bytes;
};

/** Resolves when `socket` is closed by the peer (end or close), with whatever data came first. */
export const closedByPeer = async (socket: Socket): Promise<Buffer> => readAll(socket);

export interface HangingBackend {
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

/**
 * A real hanging connect on loopback: a listener that never accepts, its accept queue filled
 * by one connection, so further SYNs go unanswered until the dialer gives up.
 */
export const startHangingBackend = async (): Promise<HangingBackend> => {
  const child = spawn(
    "python3",
    [
      "-c",
      "import socket,sys\n" +
        "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(0)\n" +
        "print(s.getsockname()[1], flush=True)\n" +
        "sys.stdin.read()\n",
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout });
  const [line] = (await once(lines, "line")) as [string];
  const port = Number(line);
  // Backlog 0 admits one connection; once it is queued, the queue is full.
  const filler = await connectTo(port);
  filler.on("error", () => undefined);
  return {
    port,
    address: `127.0.0.1:${port}`,
    close: async () => {
      filler.destroy();
      lines.close();
      child.stdin.end();
      if (child.exitCode === null) await once(child, "exit");
    },
  };
};
