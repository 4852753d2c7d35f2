import test from "ava";
import { createHash, randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { of } from "rxjs";
import {
  type ProxyHeader,
  encodeProxyHeader,
  parseProxyHeader,
} from "../src/domain/proxy-protocol.js";
import * as E from "fp-ts/lib/Either.js";
import {
  InvalidOptionsError,
  backendsOf,
  createFallbackProxy,
  decodeProxySettings,
} from "../src/index.js";
import { runCli } from "./helpers/cli.js";
import {
  connectTo,
  readAll,
  roundTrip,
  startBackend,
  startReplyAtEndBackend,
} from "./helpers/net.js";
import { startProxy } from "./helpers/proxy.js";
import { dialsPendingTo, eventually, startLateBackend } from "./helpers/slow-connect.js";

// Checks always pass: only what the clients do matters here.
const alwaysUp = () => of({ ok: true as const });

interface Lines {
  readonly lines: string[];
  /** Resolves with the first line matching `pattern`, lines already logged included. */
  line(pattern: RegExp): Promise<string>;
}

const recordingLogger = (debugEnabled = false) => {
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const record =
    (level: string) =>
    (message: string): void => {
      const line = `${level} ${message}`;
      lines.push(line);
      for (const waiter of [...waiters])
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
    };
  const log: Lines = {
    lines,
    line: (pattern) =>
      new Promise((resolve) => {
        const seen = lines.find((l) => pattern.test(l));
        if (seen === undefined) waiters.push({ pattern, resolve });
        else resolve(seen);
      }),
  };
  return {
    log,
    logger: {
      debug: record("DEBUG"),
      info: record("INFO"),
      warn: record("WARN"),
      error: record("ERROR"),
      debugEnabled,
    },
  };
};

/** Splits what a backend received into its header and the client's bytes. */
const headerAndRest = (bytes: Buffer): { header: ProxyHeader | string; rest: Buffer } => {
  const parsed = parseProxyHeader(bytes);
  if (parsed.kind !== "header") return { header: parsed.kind, rest: bytes };
  return { header: parsed.header, rest: bytes.subarray(parsed.length) };
};

const fromClient = (client: Socket, proxyPort: number): ProxyHeader => ({
  kind: "proxy",
  addresses: {
    family: "TCP4",
    sourceAddress: "127.0.0.1",
    sourcePort: client.localPort ?? 0,
    destinationAddress: "127.0.0.1",
    destinationPort: proxyPort,
  },
});

/** Sends `data` on an open connection, half-closes, and returns all that came back. */
const exchange = async (client: Socket, data: Buffer | string): Promise<Buffer> => {
  const reply = readAll(client);
  client.end(data);
  return reply;
};

const sha = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

const ORIGIN_ADDRESSES = {
  family: "TCP4",
  sourceAddress: "203.0.113.7",
  sourcePort: 4242,
  destinationAddress: "198.51.100.1",
  destinationPort: 443,
} as const;
const ORIGIN: ProxyHeader = { kind: "proxy", addresses: ORIGIN_ADDRESSES };

// ----- -send-proxy

for (const version of ["v1", "v2"] as const) {
  test(`sendProxy ${version}: the backend gets the client's address and port, then its bytes`, async (t) => {
    const backend = await startReplyAtEndBackend();
    const { proxy, port } = await startProxy({
      backends: [backend.address],
      sendProxy: version,
      probe: alwaysUp,
    });
    t.teardown(async () => {
      await proxy.close();
      await backend.close();
    });
    const client = await connectTo(port);
    // Taken before the connection closes: a closed socket forgets its port.
    const origin = fromClient(client, port);
    const received = await exchange(client, "hello");
    const expected = encodeProxyHeader(version, origin);
    t.deepEqual(received.subarray(0, expected.length), expected);
    const { header, rest } = headerAndRest(received);
    t.deepEqual(header, origin);
    t.is(rest.toString(), "hello");
  });
}

test("sendProxy: client bytes sent while the backend's connect hangs come after the header, none lost or reordered", async (t) => {
  // A connect that completes about a second later, at the SYN's retransmission.
  const late = await startLateBackend();
  const { proxy, port } = await startProxy({
    backends: [late.address],
    sendProxy: "v2",
    connectTimeout: "10s",
    probe: alwaysUp,
  });
  t.teardown(async () => {
    await proxy.close();
    await late.close();
  });
  const client = await connectTo(port);
  const origin = fromClient(client, port);
  const reply = readAll(client);
  t.true(await eventually(() => dialsPendingTo(late.port) > 0), "dialing");
  // 4 MiB in 256 writes of 16 KiB, all while the proxy is still dialing: the backend answers
  // no SYN until it is told to open.
  const payload = randomBytes(4 * 1024 * 1024);
  for (let at = 0; at < payload.length; at += 16 * 1024) {
    client.write(payload.subarray(at, at + 16 * 1024));
    if (at % (256 * 1024) === 0) await sleep(5);
  }
  t.true(dialsPendingTo(late.port) > 0, "still dialing when the client had written");
  late.openAfter(0);
  client.end();
  const echoed = await reply;
  const { header, rest } = headerAndRest(echoed);
  t.deepEqual(header, origin);
  t.is(rest.length, payload.length);
  t.is(sha(rest), sha(payload));
  t.log(
    `echoed ${rest.length} bytes after a ${echoed.length - rest.length}-byte header, sha256 equal`,
  );
});

test("sendProxy: a backend's own setting wins over the proxy's; without either nothing is sent", async (t) => {
  const withV2 = await startReplyAtEndBackend();
  const plain = await startReplyAtEndBackend();
  const { proxy, port } = await startProxy({
    backends: [{ address: withV2.address, sendProxy: "v2" }],
    sendProxy: "v1",
    probe: alwaysUp,
  });
  const other = await startProxy({ backends: [plain.address], probe: alwaysUp });
  t.teardown(async () => {
    await proxy.close();
    await other.proxy.close();
    await withV2.close();
    await plain.close();
  });
  const client = await connectTo(port);
  const received = await exchange(client, "x");
  t.is(received.subarray(0, 12).toString("hex"), "0d0a0d0a000d0a515549540a");
  t.is((await roundTrip(other.port, "plain")).toString(), "plain");
});

// ----- -accept-proxy

test("acceptProxy: a header split over many writes with pauses still parses; the bytes after it arrive untouched", async (t) => {
  const backend = await startReplyAtEndBackend();
  const { logger, log } = recordingLogger(true);
  const { proxy, port } = await startProxy({
    backends: [backend.address],
    acceptProxy: true,
    sendProxy: "v1",
    probe: alwaysUp,
    logger,
  });
  t.teardown(async () => {
    await proxy.close();
    await backend.close();
  });
  for (const version of ["v1", "v2"] as const) {
    const client = await connectTo(port);
    const reply = readAll(client);
    const header = encodeProxyHeader(version, ORIGIN);
    // The header, one byte per write, and the client's first bytes glued to its last byte.
    for (const byte of header.subarray(0, -1)) {
      client.write(Buffer.from([byte]));
      await sleep(3);
    }
    client.end(Buffer.concat([header.subarray(-1), Buffer.from("\r\n\r\nPROXY payload\0\xff")]));
    const { header: sent, rest } = headerAndRest(await reply);
    // The header sent on carries the original client, not the socket's peer.
    t.deepEqual(sent, ORIGIN, version);
    t.deepEqual(rest, Buffer.from("\r\n\r\nPROXY payload\0\xff"), version);
  }
  // -debug lines name the client by its header's address.
  t.regex(await log.line(/Connection .* opened/), /Connection 203\.0\.113\.7:4242 -> /);
});

test("acceptProxy: LOCAL and UNKNOWN headers stand for the real peer", async (t) => {
  const backend = await startReplyAtEndBackend();
  const { proxy, port } = await startProxy({
    backends: [backend.address],
    acceptProxy: true,
    sendProxy: "v1",
    probe: alwaysUp,
  });
  t.teardown(async () => {
    await proxy.close();
    await backend.close();
  });
  for (const [version, kind] of [
    ["v2", "local"],
    ["v1", "unknown"],
    ["v2", "unknown"],
  ] as const) {
    const client = await connectTo(port);
    const origin = fromClient(client, port);
    const received = await exchange(
      client,
      Buffer.concat([encodeProxyHeader(version, { kind }), Buffer.from("data")]),
    );
    const { header, rest } = headerAndRest(received);
    t.deepEqual(header, origin, `${version} ${kind}`);
    t.is(rest.toString(), "data");
  }
});

const refusedClients = async (
  t: { teardown(fn: () => Promise<void>): void },
  connectTimeout = "5s",
) => {
  const backend = await startBackend();
  const { logger, log } = recordingLogger();
  const running = await startProxy({
    backends: [backend.address],
    acceptProxy: true,
    connectTimeout,
    probe: alwaysUp,
    logger,
  });
  t.teardown(async () => {
    await running.proxy.close();
    await backend.close();
  });
  return { ...running, backend, log };
};

test("acceptProxy: a malformed header closes the client and logs why, without a stack trace; the backend never hears of it", async (t) => {
  const { port, backend, log } = await refusedClients(t);
  const client = await connectTo(port);
  const answer = await exchange(client, "PROXY TCP4 1.2.3.4 5.6.7.8 99999 80\r\nhello");
  t.is(answer.length, 0);
  const line = await log.line(/bad PROXY protocol header/);
  t.regex(
    line,
    /^WARN Client 127\.0\.0\.1:\d+ closed: bad PROXY protocol header: v1 header: bad source port "99999"$/,
  );
  t.false(log.lines.some((l) => /\n\s+at /.test(l)));
  t.is(backend.accepted.length, 0);
});

test("acceptProxy: a client that sends plain bytes is closed at its first byte", async (t) => {
  const { port, backend, log } = await refusedClients(t);
  const client = await connectTo(port);
  const closed = readAll(client);
  // Not half-closed: the proxy closes on the first byte, not at the end.
  client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  t.is((await closed).length, 0);
  t.regex(await log.line(/bad PROXY/), /no PROXY protocol header: the first byte is 0x47/);
  t.is(backend.accepted.length, 0);
});

test("acceptProxy: a silent client is closed at the deadline", async (t) => {
  const { port, log } = await refusedClients(t, "300ms");
  // The deadline runs from the proxy's accept, which comes after the client starts to connect.
  const started = performance.now();
  const client = await connectTo(port);
  client.write("PROXY TCP4 ");
  await readAll(client);
  const ms = performance.now() - started;
  t.true(ms >= 290 && ms < 3_000, `${ms} ms`);
  t.regex(await log.line(/bad PROXY/), /no complete header within 300ms \(11 byte\(s\) read\)/);
});

test("acceptProxy: the deadline is for the whole header: a client trickling bytes is closed at it too", async (t) => {
  const { port, log } = await refusedClients(t, "400ms");
  // The deadline runs from the proxy's accept, which comes after the client starts to connect.
  const started = performance.now();
  const client = await connectTo(port);
  // Closed while it is still writing: a reset as often as not.
  client.on("error", () => undefined);
  const closed = new Promise((resolve) => client.once("close", resolve));
  let sent = 0;
  const header = "PROXY TCP4 203.0.113.7 198.51.100.1 4242 443\r\n";
  const trickle = setInterval(() => {
    if (client.writable && sent < header.length) client.write(header[sent++] ?? "");
  }, 50);
  t.teardown(() => clearInterval(trickle));
  await closed;
  const ms = performance.now() - started;
  clearInterval(trickle);
  t.true(ms >= 390 && ms < 3_000, `${ms} ms`);
  t.true(sent < header.length);
  t.regex(await log.line(/bad PROXY/), /no complete header within 400ms \(\d+ byte\(s\) read\)/);
});

test("acceptProxy: a client that half-closes mid-header is closed and logged", async (t) => {
  const { port, log } = await refusedClients(t);
  const client = await connectTo(port);
  await exchange(client, encodeProxyHeader("v2", ORIGIN).subarray(0, 20));
  t.regex(
    await log.line(/bad PROXY/),
    /closed by the client after 20 byte\(s\), before a complete header/,
  );
});

test("acceptProxy: a storm of bad clients is one warning, then a count", async (t) => {
  const { proxy, port, log } = await refusedClients(t);
  const clients = await Promise.all(Array.from({ length: 20 }, () => connectTo(port)));
  await Promise.all(clients.map((client, i) => exchange(client, `junk ${i}`)));
  // Shutting down reports what is still counted.
  await proxy.close();
  const lines = log.lines.filter((l) => l.includes("PROXY"));
  t.regex(
    lines[0] ?? "",
    /^WARN Client 127\.0\.0\.1:\d+ closed: bad PROXY protocol header: no PROXY/,
  );
  // Every refusal is told, in far fewer lines (one interval each at most on a slow machine).
  const counted = lines.map((l) => Number(/^WARN (\d+) more client/.exec(l)?.[1] ?? 1));
  t.is(
    counted.reduce((a, b) => a + b, 0),
    20,
    lines.join("\n"),
  );
  t.true(lines.length <= 4, lines.join("\n"));
  t.regex(
    lines.find((l) => l.includes("more client")) ?? "",
    /^WARN \d+ more client\(s\) closed for a bad PROXY protocol header, the last 127\.0\.0\.1:\d+: no PROXY/,
  );
});

test("acceptProxy: a proxy shut down while a client is mid-header still closes", async (t) => {
  const { proxy, port } = await refusedClients(t);
  const client = await connectTo(port);
  client.write("PROXY ");
  const closed = readAll(client);
  await sleep(50);
  const started = performance.now();
  await Promise.all([proxy.close(), closed]);
  t.true(performance.now() - started < 12_000);
});

// ----- options

test("sendProxy and acceptProxy refuse what they cannot use, naming the value", (t) => {
  const error = t.throws(
    () =>
      createFallbackProxy({
        listen: 0,
        backends: ["127.0.0.1:1", { address: "127.0.0.1:2", sendProxy: "v0" as "v1" }],
        sendProxy: "v3" as "v1",
        acceptProxy: "yes" as unknown as boolean,
      }),
    { instanceOf: InvalidOptionsError },
  );
  t.deepEqual(error?.problems, [
    'options.backends[1].sendProxy: expected v1 or v2, got "v0"',
    'options.sendProxy: expected v1 or v2, got "v3"',
    'options.acceptProxy: expected boolean, got "yes"',
  ]);
});

test("CLI: -send-proxy=v3 is a usage error naming the value, exit 2", async (t) => {
  const run = runCli(["-send-proxy=v3", "127.0.0.1:0", "127.0.0.1:1"]);
  t.is(await run.exited, 2);
  t.regex(run.stderr(), /invalid value "v3" for flag -send-proxy: expected v1 or v2, got "v3"/);
  const bool = runCli(["-accept-proxy=maybe", "127.0.0.1:0", "127.0.0.1:1"]);
  t.is(await bool.exited, 2);
  t.regex(bool.stderr(), /invalid boolean value "maybe" for -accept-proxy/);
});

test("CLI -workers=2: -accept-proxy and -send-proxy reach the workers", async (t) => {
  const backend = await startReplyAtEndBackend();
  const run = runCli(
    ["-workers=2", "-stats=0", "-accept-proxy", "-send-proxy=v2", "127.0.0.1:0", backend.address],
    { ownGroup: true },
  );
  t.teardown(async () => {
    run.child.kill("SIGTERM");
    await run.closed;
    await backend.close();
  });
  await run.line(/Worker \d+ ready/, 2);
  const port = Number(/:(\d+)$/.exec(await run.line(/Listening on /))?.[1]);
  // Enough connections that both workers take some.
  for (let i = 0; i < 8; i++) {
    const client = await connectTo(port);
    const origin: ProxyHeader = {
      kind: "proxy",
      addresses: { ...ORIGIN_ADDRESSES, sourcePort: 1000 + i },
    };
    const received = await exchange(
      client,
      Buffer.concat([encodeProxyHeader("v1", origin), Buffer.from(`client ${i}`)]),
    );
    const { header, rest } = headerAndRest(received);
    t.deepEqual(header, origin);
    t.is(rest.toString(), `client ${i}`);
  }
  const bad = await connectTo(port);
  await exchange(bad, "nonsense");
  await run.line(/bad PROXY protocol header: no PROXY protocol header/);
});

// ----- cost when off

test("off, a client's bytes reach the backend as they were sent", async (t) => {
  const backend = await startReplyAtEndBackend();
  const { proxy, port } = await startProxy({ backends: [backend.address], probe: alwaysUp });
  t.teardown(async () => {
    await proxy.close();
    await backend.close();
  });
  const header = encodeProxyHeader("v1", ORIGIN);
  t.deepEqual(await roundTrip(port, header), header);
});

test("sendProxy over IPv6 loopback writes a TCP6 header", async (t) => {
  const backend = await startReplyAtEndBackend();
  const { proxy, port } = await startProxy({
    listen: "[::1]:0",
    backends: [backend.address],
    sendProxy: "v1",
    probe: alwaysUp,
  });
  t.teardown(async () => {
    await proxy.close();
    await backend.close();
  });
  const client = await connectTo(port, "::1");
  const clientPort = client.localPort;
  const received = await exchange(client, "six");
  t.is(received.toString(), `PROXY TCP6 ::1 ::1 ${clientPort} ${port}\r\nsix`);
});

test("settings: sendProxy and acceptProxy are present only when on; a backend without its own takes the proxy's", (t) => {
  const on = decodeProxySettings({
    listen: 0,
    backends: ["127.0.0.1:1", { address: "127.0.0.1:2", sendProxy: "v2" }],
    sendProxy: "v1",
    acceptProxy: true,
  });
  t.true(E.isRight(on));
  if (E.isLeft(on)) return;
  t.is(on.right.sendProxy, "v1");
  t.is(on.right.acceptProxy, true);
  t.deepEqual(
    backendsOf(on.right.backends, on.right).map((b) => b.sendProxy),
    ["v1", "v2"],
  );
  const off = decodeProxySettings({ listen: 0, backends: ["127.0.0.1:1"], acceptProxy: false });
  t.true(E.isRight(off));
  if (E.isLeft(off)) return;
  t.false("sendProxy" in off.right);
  t.false("acceptProxy" in off.right);
  t.false("sendProxy" in (backendsOf(off.right.backends, off.right)[0] ?? {}));
});

test("acceptProxy: closing a backend's sessions passes over clients still sending their header", async (t) => {
  const dead = await startBackend();
  const deadAddress = dead.address;
  await dead.close();
  const good = await startReplyAtEndBackend();
  const { proxy, port, events } = await startProxy({
    backends: [deadAddress, good.address],
    acceptProxy: true,
    onDown: "close",
    probeDelay: "1h",
    probe: alwaysUp,
  });
  t.teardown(async () => {
    await proxy.close();
    await good.close();
  });
  const waiting = await connectTo(port);
  waiting.write("PROXY TCP4 ");
  // This client's dial to the dead backend marks it down, and its sessions are closed.
  const client = await connectTo(port);
  const reply = exchange(
    client,
    Buffer.concat([encodeProxyHeader("v2", ORIGIN), Buffer.from("on")]),
  );
  t.is((await reply).toString(), "on");
  t.true(events.some((e) => e.type === "sessions-closed"));
  // The client still sending its header goes on as if nothing happened.
  const rest = exchange(waiting, "203.0.113.9 198.51.100.1 1 2\r\nlater");
  t.is((await rest).toString(), "later");
});

test("acceptProxy with sendProxy: a header glued to 4 MiB sent while dialing arrives as a new header and the same 4 MiB", async (t) => {
  const late = await startLateBackend();
  const { proxy, port } = await startProxy({
    backends: [late.address],
    acceptProxy: true,
    sendProxy: "v1",
    connectTimeout: "10s",
    probe: alwaysUp,
  });
  t.teardown(async () => {
    await proxy.close();
    await late.close();
  });
  const client = await connectTo(port);
  const reply = readAll(client);
  const payload = randomBytes(4 * 1024 * 1024);
  // The header and the first bytes in one write: the reader must hand back what follows it.
  client.write(Buffer.concat([encodeProxyHeader("v2", ORIGIN), payload.subarray(0, 1000)]));
  t.true(await eventually(() => dialsPendingTo(late.port) > 0), "dialing");
  for (let at = 1000; at < payload.length; at += 64 * 1024)
    client.write(payload.subarray(at, Math.min(at + 64 * 1024, payload.length)));
  await sleep(50);
  t.true(dialsPendingTo(late.port) > 0, "still dialing when the client had written");
  late.openAfter(0);
  client.end();
  const echoed = await reply;
  const { header, rest } = headerAndRest(echoed);
  t.deepEqual(header, ORIGIN);
  t.is(rest.length, payload.length);
  t.is(sha(rest), sha(payload));
  t.log(
    `echoed ${rest.length} bytes after a ${echoed.length - rest.length}-byte header, sha256 equal`,
  );
});
