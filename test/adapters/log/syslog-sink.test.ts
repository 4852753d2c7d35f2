import { once } from "node:events";
import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test, { type ExecutionContext } from "ava";
import { createSocket, type UnixDgramSocket } from "unix-dgram";

import { formatSyslogDatagram, openSyslogSink } from "../../../src/adapters/log/syslog-sink.js";
import { captureStderr } from "./capture-stderr.js";

const DATAGRAM_TIMEOUT_MS = 5000;

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tcp-fallback-syslog-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A stand-in syslog daemon: a bound unix datagram socket, closed at teardown. */
function listen(t: ExecutionContext, path: string): UnixDgramSocket {
  const receiver = createSocket("unix_dgram");
  const closeOnce = receiver.close.bind(receiver);
  let open = true;
  // unix-dgram aborts the process on a second close, and teardown closes too.
  receiver.close = () => {
    if (!open) return;
    open = false;
    closeOnce();
  };
  t.teardown(() => receiver.close());
  // bind() reports synchronously, so this listener sees the outcome.
  let failure: Error | undefined;
  receiver.on("error", (err: Error) => {
    failure = err;
  });
  receiver.bind(path);
  if (failure) throw failure;
  return receiver;
}

async function nextDatagram(receiver: UnixDgramSocket): Promise<string> {
  const [message] = (await once(receiver, "message", {
    signal: AbortSignal.timeout(DATAGRAM_TIMEOUT_MS),
  })) as [Buffer];
  return message.toString();
}

test("sends RFC 3164 datagrams with facility daemon and the level's severity", async (t) => {
  const path = join(await tempDir(t), "log.sock");
  const receiver = listen(t, path);
  const sink = await openSyslogSink(path);
  t.teardown(() => sink.close());

  let received = nextDatagram(receiver);
  sink.write("info", "hello");
  t.regex(await received, /^<30>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d tcp-fallback\[\d+\]: hello$/);

  received = nextDatagram(receiver);
  sink.write("warn", "hello");
  t.regex(await received, /^<28>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d tcp-fallback\[\d+\]: hello$/);
});

test("uses the ident, pid and local time given", async (t) => {
  const path = join(await tempDir(t), "log.sock");
  const receiver = listen(t, path);
  const at = new Date(2026, 10, 6, 1, 2, 3);
  const sink = await openSyslogSink(path, { ident: "proxy-a", now: () => at });
  t.teardown(() => sink.close());

  const received = nextDatagram(receiver);
  sink.write("error", "backend down");
  t.is(await received, `<27>Nov  6 01:02:03 proxy-a[${process.pid}]: backend down`);
  t.is(formatSyslogDatagram(at, "debug", "x", "m"), `<31>Nov  6 01:02:03 x[${process.pid}]: m`);
});

test("rejects naming the path when no daemon listens there", async (t) => {
  const path = join(await tempDir(t), "missing.sock");
  const err = await t.throwsAsync(openSyslogSink(path));
  t.is(err?.message.startsWith(`cannot connect to syslog at ${path}: ENOENT`), true);
});

test("rejects a socket path too long to address instead of truncating it", async (t) => {
  const path = join(await tempDir(t), "x".repeat(120));
  const err = await t.throwsAsync(openSyslogSink(path));
  t.regex(err?.message ?? "", /ENAMETOOLONG/);
});

test.serial("reconnects once when the daemon restarts, else drops and reports once", async (t) => {
  const path = join(await tempDir(t), "log.sock");
  const first = listen(t, path);
  const sink = await openSyslogSink(path);
  t.teardown(() => sink.close());

  // Daemon restart: the old socket goes away and a new one is bound at the same path.
  first.close();
  await unlink(path);
  const second = listen(t, path);
  const received = nextDatagram(second);
  t.notThrows(() => sink.write("info", "after restart"));
  t.regex(await received, /: after restart$/);

  // Daemon gone for good: lines are dropped, one report, no throw.
  second.close();
  await unlink(path);
  const stderr = await captureStderr(async () => {
    t.notThrows(() => {
      sink.write("info", "lost 1");
      sink.write("info", "lost 2");
    });
  });
  const reports = stderr.split("\n").filter(Boolean);
  t.is(reports.length, 1);
  t.regex(reports[0] ?? "", /syslog at .*log\.sock: dropping log lines: .*ENOENT/);

  // And it picks up again once a daemon is back.
  const third = listen(t, path);
  const back = nextDatagram(third);
  sink.write("info", "back");
  t.regex(await back, /: back$/);
});

test("close is idempotent and later writes are ignored", async (t) => {
  const path = join(await tempDir(t), "log.sock");
  listen(t, path);
  const sink = await openSyslogSink(path);
  await sink.close();
  await sink.close();
  t.notThrows(() => sink.write("info", "ignored"));
});

test("holds lines while the daemon's buffer is full and sends them in order later", async (t) => {
  const path = join(await tempDir(t), "log.sock");
  const receiver = listen(t, path);
  const sink = await openSyslogSink(path);
  t.teardown(() => sink.close());

  const count = 200;
  const received: string[] = [];
  const all = new Promise<void>((resolve) => {
    receiver.on("message", (message: Buffer) => {
      received.push(message.toString().replace(/^.*: /, ""));
      if (received.length === count) resolve();
    });
  });
  // Sent in one tick the receiver cannot drain, so its queue (net.unix.max_dgram_qlen) fills up.
  for (let i = 0; i < count; i++) sink.write("info", `line ${i}`);
  await Promise.race([
    all,
    new Promise((_, reject) => {
      AbortSignal.timeout(DATAGRAM_TIMEOUT_MS).onabort = () => reject(new Error("timed out"));
    }),
  ]);
  t.deepEqual(
    received,
    Array.from({ length: count }, (_, i) => `line ${i}`),
  );
});
