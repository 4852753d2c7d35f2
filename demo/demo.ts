/**
 * A ready demo: two local backends, the proxy in front of them (the real CLI, as a child
 * process), a client that connects every second, and a primary that is stopped and started
 * again on a timer, so failover and failback show up in the log. Ctrl-C stops everything.
 *
 *   npm run demo [-- <listen-port>]
 */
import { spawn } from "node:child_process";
import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";
import { fileURLToPath } from "node:url";

const listenPort = Number(process.argv[2] ?? 7000);
const primaryPort = listenPort + 1;
const fallbackPort = listenPort + 2;
const say = (message: string): void => console.log(`[demo] ${message}`);

/** A backend that greets each client with its name, then echoes. */
const startBackend = (name: string, port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
      socket.write(`hello from ${name}\n`);
      socket.pipe(socket);
    });
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });

const sockets = new Set<Socket>();

/** Stops a backend the hard way, as a crash would: listener gone, its connections reset. */
const stopBackend = (server: Server): Promise<void> => {
  const { port } = server.address() as AddressInfo;
  for (const socket of sockets) if (socket.localPort === port) socket.resetAndDestroy();
  return new Promise((resolve) => server.close(() => resolve()));
};

const cli = fileURLToPath(new URL("../src/cli.js", import.meta.url));
const proxy = spawn(
  cli,
  [
    "-timeout=1s",
    "-probe-delay=2s",
    "-stats=20s",
    `127.0.0.1:${listenPort}`,
    `127.0.0.1:${primaryPort}`,
    `127.0.0.1:${fallbackPort}`,
  ],
  { stdio: ["ignore", "inherit", "inherit"] },
);

let primary: Server | null = await startBackend("primary", primaryPort);
await startBackend("fallback", fallbackPort);
say(`backends: primary on ${primaryPort}, fallback on ${fallbackPort}; proxy on ${listenPort}`);
say("a client connects every second; the primary stops every 14s and comes back 6s later");

const ask = (): void => {
  const socket = connect({ host: "127.0.0.1", port: listenPort });
  socket.setTimeout(3000, () => socket.destroy());
  socket.once("data", (greeting: Buffer) => {
    say(`client got: ${greeting.toString().trim()}`);
    socket.end();
  });
  socket.on("error", (error: Error) => say(`client error: ${error.message}`));
};

const clientTimer = setInterval(ask, 1000);
const chaosTimer = setInterval(() => {
  if (primary !== null) {
    say(">>> stopping the primary");
    const stopping = primary;
    primary = null;
    void stopBackend(stopping);
    setTimeout(() => {
      void startBackend("primary", primaryPort).then((server) => {
        primary = server;
        say(">>> primary is back");
      });
    }, 6000);
  }
}, 14000);

let stopping = false;
/** Ctrl-C reaches the whole process group, the proxy included: then it only has to be awaited. */
const shutDown = (signal: NodeJS.Signals): void => {
  stopping = true;
  clearInterval(clientTimer);
  clearInterval(chaosTimer);
  if (proxy.exitCode !== null || proxy.signalCode !== null) process.exit(0);
  proxy.once("exit", () => process.exit(0));
  if (signal === "SIGTERM") proxy.kill("SIGTERM");
};
process.once("SIGINT", shutDown);
process.once("SIGTERM", shutDown);
proxy.once("exit", (code) => {
  if (code !== 0 && !stopping) {
    say(`proxy exited with ${code}`);
    process.exit(1);
  }
});
