import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { once } from "node:events";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { decodeProxySettings } from "../src/domain/proxy-options.js";
import { silentLogger } from "../src/domain/logger.js";
import { connectTo, startBackend } from "./helpers/net.js";
import { startProxy } from "./helpers/proxy.js";

/** Writes `text` and resolves once it has all come back. */
const echoed = async (socket: Socket, text: string): Promise<void> => {
  let got = "";
  const onData = (chunk: Buffer): void => void (got += chunk.toString());
  socket.on("data", onData);
  socket.write(text);
  while (!got.includes(text)) await once(socket, "data");
  socket.removeListener("data", onData);
};

/** /metrics lines starting with `name`, polled (bounded) until one matches `pattern`. */
const metricLine = async (adminPort: number, pattern: RegExp): Promise<string> => {
  const started = Date.now();
  let text = "";
  while (Date.now() - started < 5_000) {
    text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    const line = text.split("\n").find((l) => pattern.test(l));
    if (line !== undefined) return line;
    await sleep(50);
  }
  return `none of: ${text
    .split("\n")
    .filter((l) => l.includes("full") || l.includes("fin_"))
    .join(" | ")}`;
};

test("options: maxconn per backend object, backendMaxconn for the rest, and the timeouts decode; bad ones are named", (t) => {
  const decoded = decodeProxySettings({
    listen: ":0",
    backends: [{ address: "db1:5432", maxconn: 5 }, "db2:5432"],
    maxconn: 100,
    backendMaxconn: 20,
    idleTimeout: "5m",
    keepalive: "30s",
    finTimeout: 2_000,
  });
  if (E.isLeft(decoded)) return t.fail(decoded.left);
  const settings = decoded.right;
  t.is(settings.backends[0]?.maxconn, 5);
  t.is(settings.backends[1]?.maxconn, undefined);
  t.is(settings.maxconn, 100);
  t.is(settings.backendMaxconn, 20);
  t.is(settings.idleTimeoutMs, 300_000);
  t.is(settings.keepaliveMs, 30_000);
  t.is(settings.finTimeoutMs, 2_000);
  // Off by default: settings without limits read as before.
  const plain = decodeProxySettings({ listen: ":0", backends: ["db1:5432"] });
  if (E.isLeft(plain)) return t.fail(plain.left);
  t.false("maxconn" in plain.right || "idleTimeoutMs" in plain.right);
  const bad = decodeProxySettings({
    listen: ":0",
    backends: [{ address: "db1:5432", maxconn: 0 }],
    idleTimeout: "0s",
  });
  t.true(E.isLeft(bad));
  if (E.isLeft(bad)) {
    t.regex(bad.left, /backends\[0\]\.maxconn/);
    t.regex(bad.left, /idleTimeout/);
  }
});

test("library: a backend at its maxconn sends the next client to the fallback, and a half-closed one ends at finTimeout; both in /metrics", async (t) => {
  const primary = await startBackend();
  // Silent and half-open capable: it never closes its side.
  const fallback = await startBackend(() => undefined);
  const { proxy, port } = await startProxy({
    backends: [{ address: primary.address, maxconn: 1 }, fallback.address],
    finTimeout: "300ms",
    admin: "127.0.0.1:0",
    logger: silentLogger,
  });
  t.teardown(async () => {
    await proxy.close();
    await primary.close();
    await fallback.close();
  });
  const adminPort = (await proxy.admin)?.port ?? 0;
  const first = await connectTo(port);
  await echoed(first, "one");
  const second = await connectTo(port);
  second.on("error", () => undefined);
  second.write("two");
  while (fallback.accepted.length === 0) await once(fallback.server, "connection");
  t.is(primary.served(), 1);
  t.regex(
    await metricLine(
      adminPort,
      /^tcp_fallback_backend_full_total\{backend="127\.0\.0\.1:\d+",index="0"\} 1$/,
    ),
    /index="0"\} 1$/,
  );
  // The second client half-closes; its backend never answers nor closes.
  const ended = new Promise<void>((resolve) => {
    second.once("end", () => resolve());
    second.once("close", () => resolve());
  });
  second.resume();
  second.end();
  await Promise.race([ended, sleep(3_000)]);
  t.true(second.readableEnded || second.destroyed);
  t.is(
    await metricLine(adminPort, /^tcp_fallback_fin_timeouts_total 1$/),
    "tcp_fallback_fin_timeouts_total 1",
  );
  first.destroy();
});
