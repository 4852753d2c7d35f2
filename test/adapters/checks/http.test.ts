import test from "ava";
import { once } from "node:events";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { httpCheck } from "../../../src/adapters/checks/http.js";
import { MAX_ANSWER_BYTES } from "../../../src/adapters/checks/exchange.js";
import {
  backendAt,
  closedWithin,
  firstAccepted,
  runProbe,
  startFloodServer,
  startScriptServer,
  startSilentServer,
} from "../../helpers/bad-peers.js";

const SETTINGS = { timeoutMs: 5_000 };

const withoutLatency = <T extends { latencyMs?: number }>({ latencyMs: _, ...rest }: T) => rest;

interface Seen {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly host: string | undefined;
  readonly connection: string | undefined;
}

/** A real node HTTP server on loopback; records what each request asked. */
const startHttpServer = async (
  t: { teardown(fn: () => Promise<void>): void },
  handle: (request: IncomingMessage, response: ServerResponse) => void,
) => {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    seen.push({
      method: request.method,
      url: request.url,
      host: request.headers.host,
      connection: request.headers.connection,
    });
    handle(request, response);
  });
  server.listen({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, seen };
};

const answering =
  (status: number, headers: Record<string, string> = {}) =>
  (_: IncomingMessage, response: ServerResponse): void => {
    response.writeHead(status, headers);
    response.end("body");
  };

test("http: a 200 passes; GET of the path, Host host:port, Connection: close", async (t) => {
  const { port, seen } = await startHttpServer(t, answering(200));
  const result = await runProbe(
    httpCheck({ ...SETTINGS, path: "/health?deep=1" }),
    backendAt(port),
  );
  t.true(result.ok, JSON.stringify(result));
  t.is(typeof result.latencyMs, "number");
  t.deepEqual(seen, [
    { method: "GET", url: "/health?deep=1", host: `127.0.0.1:${port}`, connection: "close" },
  ]);
});

test("http: any 2xx passes", async (t) => {
  const { port } = await startHttpServer(t, answering(204));
  t.like(await runProbe(httpCheck({ ...SETTINGS, path: "/" }), backendAt(port)), { ok: true });
});

test("http: a 503 fails as HTTP 503", async (t) => {
  const { port } = await startHttpServer(t, answering(503));
  const result = await runProbe(httpCheck({ ...SETTINGS, path: "/" }), backendAt(port));
  t.deepEqual(withoutLatency(result), { ok: false, reason: "HTTP 503" });
});

test("http: a redirect is not followed: 301 fails", async (t) => {
  const { port } = await startHttpServer(t, answering(301, { location: "/elsewhere" }));
  const result = await runProbe(httpCheck({ ...SETTINGS, path: "/old" }), backendAt(port));
  t.deepEqual(withoutLatency(result), { ok: false, reason: "HTTP 301" });
});

test("http: judged on the status line, without waiting for the body", async (t) => {
  // Headers sent, body never: the verdict must not wait for it.
  const { port } = await startHttpServer(t, (_, response) => {
    response.writeHead(200, { "content-length": "100" });
    response.flushHeaders();
  });
  const result = await runProbe(httpCheck({ ...SETTINGS, path: "/" }), backendAt(port));
  t.true(result.ok, JSON.stringify(result));
});

test("http: a status line split over several TCP segments is put together", async (t) => {
  const server = await startScriptServer(
    ["HT", "TP/1.", "1 2", "00 OK", "\r", "\n\r\n"],
    false,
    10,
  );
  t.teardown(() => server.close());
  const result = await runProbe(httpCheck({ ...SETTINGS, path: "/" }), backendAt(server.port));
  t.true(result.ok, JSON.stringify(result));
});

test("http: a status line cut short by the server's close is judged as it is", async (t) => {
  const server = await startScriptServer(["HTTP/1.0 500 Oops"], true);
  t.teardown(() => server.close());
  const result = await runProbe(httpCheck({ ...SETTINGS, path: "/" }), backendAt(server.port));
  t.deepEqual(withoutLatency(result), { ok: false, reason: "HTTP 500" });
});

test("http: garbage fails at once as not an HTTP answer, and the check closes", async (t) => {
  const server = await startFloodServer("+PONG\r\n");
  t.teardown(() => server.close());
  const result = await runProbe(httpCheck({ ...SETTINGS, path: "/" }), backendAt(server.port));
  t.deepEqual(withoutLatency(result), { ok: false, reason: "not an HTTP answer" });
  t.true(await closedWithin(await firstAccepted(server), 1_000), "the check closed its socket");
});

test("http: a bad status line fails as not an HTTP answer", async (t) => {
  const server = await startScriptServer(["HTTP/1.1 OK 200\r\n\r\n"]);
  t.teardown(() => server.close());
  const result = await runProbe(httpCheck({ ...SETTINGS, path: "/" }), backendAt(server.port));
  t.deepEqual(withoutLatency(result), { ok: false, reason: "not an HTTP answer" });
});

test("http: a status line that never ends fails by the byte limit", async (t) => {
  const server = await startFloodServer(" ".repeat(4096), "HTTP/1.1 200 OK");
  t.teardown(() => server.close());
  const result = await runProbe(
    httpCheck({ timeoutMs: 10_000, path: "/" }),
    backendAt(server.port),
  );
  t.deepEqual(withoutLatency(result), {
    ok: false,
    reason: `no valid answer in the first ${MAX_ANSWER_BYTES} bytes`,
  });
  t.true(await closedWithin(await firstAccepted(server), 1_000), "the check closed its socket");
});

test("http: a server that never answers fails at the timeout and sees the check close", async (t) => {
  const server = await startSilentServer();
  t.teardown(() => server.close());
  const result = await runProbe(httpCheck({ timeoutMs: 1_000, path: "/" }), backendAt(server.port));
  t.deepEqual(withoutLatency(result), { ok: false, reason: "no answer within 1s" });
  t.true(await closedWithin(await firstAccepted(server), 1_000), "the check closed its socket");
});

test("http: a server that closes before the status line ends fails", async (t) => {
  const server = await startScriptServer(["HTTP/1.1 2"], true);
  t.teardown(() => server.close());
  const result = await runProbe(httpCheck({ ...SETTINGS, path: "/" }), backendAt(server.port));
  t.deepEqual(withoutLatency(result), { ok: false, reason: "closed the connection mid-answer" });
});

test("http: a server that closes without a word fails", async (t) => {
  const server = await startScriptServer([], true);
  t.teardown(() => server.close());
  const result = await runProbe(httpCheck({ ...SETTINGS, path: "/" }), backendAt(server.port));
  t.deepEqual(withoutLatency(result), {
    ok: false,
    reason: "closed the connection without an answer",
  });
});

test("http: a path that could smuggle a header fails every check, sending nothing", async (t) => {
  const server = await startSilentServer();
  t.teardown(() => server.close());
  const result = await runProbe(
    httpCheck({ ...SETTINGS, path: "/ HTTP/1.1\r\nX-Evil: 1\r\n" }),
    backendAt(server.port),
  );
  t.false(result.ok);
  t.regex(!result.ok ? result.reason : "", /may hold only visible ASCII/);
  t.is(server.accepted.length, 0);
});
