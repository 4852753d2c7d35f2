import test from "ava";
import { sendExpectCheck } from "../../../src/adapters/checks/send-expect.js";
import {
  backendAt,
  closedWithin,
  firstAccepted,
  runProbe,
  startBannerServer,
  startFloodServer,
  startScriptServer,
  startSilentServer,
  startTrickleServer,
} from "../../helpers/bad-peers.js";
import { startRedisServer } from "../../helpers/redis-server.js";

const SETTINGS = { timeoutMs: 5_000 };

const withoutLatency = <T extends { latencyMs?: number }>({ latencyMs: _, ...rest }: T) => rest;

test("send-expect: PING to a real redis matches ^\\+PONG", async (t) => {
  const redis = await startRedisServer();
  t.teardown(() => redis.stop());
  const result = await runProbe(
    sendExpectCheck({ ...SETTINGS, send: "PING\r\n", expect: /^\+PONG/ }),
    backendAt(redis.port),
  );
  t.true(result.ok, JSON.stringify(result));
  t.is(typeof result.latencyMs, "number");
});

test("send-expect: a real redis answer that does not match fails with its start", async (t) => {
  const redis = await startRedisServer({ requirepass: "s3cret" });
  t.teardown(() => redis.stop());
  const result = await runProbe(
    sendExpectCheck({ timeoutMs: 1_000, send: "PING\r\n", expect: /^\+PONG/ }),
    backendAt(redis.port),
  );
  // Redis keeps the connection open after an error: the verdict comes at the timeout.
  t.deepEqual(withoutLatency(result), {
    ok: false,
    reason: 'answer did not match /^\\+PONG/: "-NOAUTH Authentication required.\\r\\n"',
  });
});

test("send-expect: the bytes are sent as latin1, one byte per char", async (t) => {
  const server = await startScriptServer(["ok"]);
  t.teardown(() => server.close());
  const received: Buffer[] = [];
  server.server.on("connection", (socket) =>
    socket.on("data", (chunk: Buffer) => received.push(chunk)),
  );
  const result = await runProbe(
    sendExpectCheck({ ...SETTINGS, send: "\x00\xff\r\n", expect: /ok/ }),
    backendAt(server.port),
  );
  t.true(result.ok);
  t.deepEqual(Buffer.concat(received), Buffer.from([0x00, 0xff, 0x0d, 0x0a]));
});

test("send-expect: nothing to send reads a banner", async (t) => {
  const server = await startBannerServer(["220 mail.example ESMTP\r\n"]);
  t.teardown(() => server.close());
  const result = await runProbe(
    sendExpectCheck({ ...SETTINGS, send: "", expect: /^220 / }),
    backendAt(server.port),
  );
  t.true(result.ok, JSON.stringify(result));
});

test("send-expect: matches the bytes read so far, across TCP segments", async (t) => {
  const server = await startScriptServer(["+PO", "N", "G\r\n"], false, 20);
  t.teardown(() => server.close());
  const result = await runProbe(
    sendExpectCheck({ ...SETTINGS, send: "PING\r\n", expect: /^\+PONG\r\n/ }),
    backendAt(server.port),
  );
  t.true(result.ok, JSON.stringify(result));
});

test("send-expect: a global regex works on every check, not every other one", async (t) => {
  const server = await startScriptServer(["+PONG\r\n"]);
  t.teardown(() => server.close());
  const check = sendExpectCheck({ ...SETTINGS, send: "PING\r\n", expect: /PONG/g });
  t.true((await runProbe(check, backendAt(server.port))).ok);
  t.true((await runProbe(check, backendAt(server.port))).ok);
});

test("send-expect: an answer that ends without matching fails, escaped and cut at 60 chars", async (t) => {
  const long = `-ERR "quoted"\t${"x".repeat(80)}\r\n`;
  const server = await startScriptServer([long], true);
  t.teardown(() => server.close());
  const result = await runProbe(
    sendExpectCheck({ ...SETTINGS, send: "PING\r\n", expect: /^\+PONG/ }),
    backendAt(server.port),
  );
  t.deepEqual(withoutLatency(result), {
    ok: false,
    reason: `answer did not match /^\\+PONG/: "-ERR \\x22quoted\\x22\\t${"x".repeat(46)}"...`,
  });
});

test("send-expect: a server that never answers fails at the timeout and sees the check close", async (t) => {
  const server = await startSilentServer();
  t.teardown(() => server.close());
  const result = await runProbe(
    sendExpectCheck({ timeoutMs: 1_000, send: "PING\r\n", expect: /PONG/ }),
    backendAt(server.port),
  );
  t.deepEqual(withoutLatency(result), { ok: false, reason: "no answer within 1s" });
  t.true(await closedWithin(await firstAccepted(server), 1_000), "the check closed its socket");
});

test("send-expect: a trickle that never matches fails at the timeout with what came", async (t) => {
  const server = await startTrickleServer("+PO", "N", 20);
  t.teardown(() => server.close());
  const begun = Date.now();
  const result = await runProbe(
    sendExpectCheck({ timeoutMs: 1_500, send: "PING\r\n", expect: /^\+PONG/ }),
    backendAt(server.port),
  );
  t.false(result.ok);
  t.regex(
    !result.ok ? result.reason : "",
    /^answer did not match \/\^\\\+PONG\/: "\+PONN+"(\.\.\.)?$/,
  );
  t.true(Date.now() - begun < 10_000);
  t.true(await closedWithin(await firstAccepted(server), 1_000), "the check closed its socket");
});

test("send-expect: garbage forever fails by the byte limit, with what came", async (t) => {
  const server = await startFloodServer("garbage ".repeat(512));
  t.teardown(() => server.close());
  const result = await runProbe(
    sendExpectCheck({ timeoutMs: 10_000, send: "", expect: /^\+PONG/ }),
    backendAt(server.port),
  );
  t.deepEqual(withoutLatency(result), {
    ok: false,
    reason: `answer did not match /^\\+PONG/: "${"garbage ".repeat(8).slice(0, 60)}"...`,
  });
  t.true(await closedWithin(await firstAccepted(server), 1_000), "the check closed its socket");
});

test("send-expect: a server that closes mid-answer fails with what came", async (t) => {
  const server = await startScriptServer(["+PO"], true);
  t.teardown(() => server.close());
  const result = await runProbe(
    sendExpectCheck({ ...SETTINGS, send: "PING\r\n", expect: /^\+PONG/ }),
    backendAt(server.port),
  );
  t.deepEqual(withoutLatency(result), {
    ok: false,
    reason: 'answer did not match /^\\+PONG/: "+PO"',
  });
});

test("send-expect: a server that closes without a word fails as such", async (t) => {
  const server = await startScriptServer([], true);
  t.teardown(() => server.close());
  const result = await runProbe(
    sendExpectCheck({ ...SETTINGS, send: "PING\r\n", expect: /PONG/ }),
    backendAt(server.port),
  );
  t.deepEqual(withoutLatency(result), {
    ok: false,
    reason: "closed the connection without an answer",
  });
});
