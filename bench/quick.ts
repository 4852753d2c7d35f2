/**
 * A quick, bounded benchmark on loopback: bulk throughput and connection churn through the
 * proxy (the real CLI in a child process) next to a direct connection, plus failover timing.
 * Figures vary between machines and runs: compare the ratios, not the absolute numbers.
 *
 *   npm run bench:quick
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";
import { fileURLToPath } from "node:url";

const BULK_BYTES = 1024 * 1024 * 1024;
const CHURN_CONNECTIONS = 5000;
const ROUNDS = 3;

const listen = async (server: Server): Promise<number> => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
};

/** Discards what it reads and reports the count when the client ends. */
const sinkServer = (): Server =>
  createServer({ allowHalfOpen: true }, (socket) => {
    let total = 0;
    socket.on("data", (chunk: Buffer) => (total += chunk.length));
    socket.on("end", () => socket.end(String(total)));
    socket.on("error", () => undefined);
  });

const echoServer = (): Server =>
  createServer((socket) => {
    socket.on("error", () => undefined);
    socket.pipe(socket);
  });

const connected = async (port: number): Promise<Socket> => {
  const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  await once(socket, "connect");
  return socket;
};

/** Pushes BULK_BYTES with backpressure; returns MB/s (MiB/s). */
const bulk = async (port: number): Promise<number> => {
  const socket = await connected(port);
  const chunk = Buffer.alloc(64 * 1024, 7);
  const started = process.hrtime.bigint();
  let sent = 0;
  while (sent < BULK_BYTES) {
    sent += chunk.length;
    if (!socket.write(chunk)) await once(socket, "drain");
  }
  socket.end();
  const [reply] = (await once(socket, "data")) as [Buffer];
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  socket.destroy();
  if (Number(reply.toString()) !== BULK_BYTES)
    throw new Error(`sink got ${reply.toString()} bytes`);
  return BULK_BYTES / (1024 * 1024) / seconds;
};

/** Sequential connect, 1-byte round trip, close: connections per second. */
const churn = async (port: number): Promise<number> => {
  const started = process.hrtime.bigint();
  for (let i = 0; i < CHURN_CONNECTIONS; i++) {
    const socket = await connected(port);
    socket.write("x");
    await once(socket, "data");
    socket.destroy();
  }
  return CHURN_CONNECTIONS / (Number(process.hrtime.bigint() - started) / 1e9);
};

const cli = fileURLToPath(new URL("../src/cli.js", import.meta.url));

const startProxy = async (
  args: ReadonlyArray<string>,
): Promise<{ child: ChildProcess; port: number }> => {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  for await (const chunk of child.stderr ?? []) {
    log += String(chunk);
    const match = /Listening on [^\n]*:(\d+)\n/.exec(log);
    if (match !== null) return { child, port: Number(match[1]) };
  }
  throw new Error(`proxy did not start:\n${log}`);
};

const stop = async (child: ChildProcess): Promise<void> => {
  child.kill("SIGKILL");
  if (child.exitCode === null) await once(child, "exit");
};

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const sink = sinkServer();
const echo = echoServer();
const sinkPort = await listen(sink);
const echoPort = await listen(echo);

const results: Record<string, { direct: number; proxy: number }> = {};
for (const [name, run, backendPort] of [
  ["bulk MiB/s", bulk, sinkPort],
  ["churn conn/s", churn, echoPort],
] as const) {
  const proxy = await startProxy(["-stats=0", "127.0.0.1:0", `127.0.0.1:${backendPort}`]);
  const direct: number[] = [];
  const proxied: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    direct.push(await run(backendPort));
    proxied.push(await run(proxy.port));
  }
  await stop(proxy.child);
  results[name] = { direct: median(direct), proxy: median(proxied) };
}

// Failover: the primary refuses; how long does a client take to reach the fallback, and do any fail?
const closedServer = createServer();
const refused = await listen(closedServer);
await new Promise((resolve) => closedServer.close(resolve));
const failover = await startProxy([
  "-stats=0",
  "127.0.0.1:0",
  `127.0.0.1:${refused}`,
  `127.0.0.1:${echoPort}`,
]);
let failed = 0;
const timings: number[] = [];
for (let i = 0; i < 200; i++) {
  const started = process.hrtime.bigint();
  try {
    const socket = await connected(failover.port);
    socket.write("x");
    await once(socket, "data");
    socket.destroy();
    timings.push(Number(process.hrtime.bigint() - started) / 1e6);
  } catch {
    failed++;
  }
}
await stop(failover.child);

console.log("scenario        direct      proxy       ratio");
for (const [name, { direct, proxy }] of Object.entries(results)) {
  console.log(
    `${name.padEnd(15)} ${direct.toFixed(0).padStart(9)} ${proxy.toFixed(0).padStart(10)} ${(proxy / direct).toFixed(2).padStart(10)}`,
  );
}
console.log(
  `failover: ${failed} failed of 200 clients; connect+first byte via fallback: ` +
    `first ${timings[0]?.toFixed(2)} ms, median ${median(timings).toFixed(2)} ms`,
);
sink.close();
echo.close();
process.exit(0);
