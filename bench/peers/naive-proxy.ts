/** The naive baseline: Node's net + pipe, nothing else. Usage: naive-proxy LISTEN_PORT BACKEND_PORT */
import { connect, createServer } from "node:net";

const [listenPort, backendPort] = process.argv.slice(2).map(Number);
createServer((client) => {
  const backend = connect(backendPort ?? 0, "127.0.0.1");
  client.pipe(backend).pipe(client);
  client.on("error", () => backend.destroy());
  backend.on("error", () => client.destroy());
}).listen(listenPort, "127.0.0.1");
