import test, { type ExecutionContext } from "ava";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import type { Socket } from "node:net";
import { createInterface } from "node:readline";
import type { ProbeResult } from "../src/index.js";
import { type CliRun, listeningPort, runCli, stackTrace } from "./helpers/cli.js";
import { type TestBackend, connectTo, startBackend } from "./helpers/net.js";
import { nextEvent, startProxy } from "./helpers/proxy.js";

// ----- a backend whose listener the test opens and shuts

/**
 * An echo backend whose listener can stop accepting while the connections it has go on: then
 * its one-place accept queue is filled, so new connects hang (a dial times out) as to a dead
 * peer. One select loop reads the orders and accepts, so once an order is answered no accept
 * can slip in after it.
 */
const GATE = `
import os, select, socket, sys, threading
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
print(s.getsockname()[1], flush=True)
accepting = sys.argv[1] == "open"
def echo(c):
    try:
        while True:
            d = c.recv(65536)
            if not d: break
            c.sendall(d)
    except OSError:
        pass
    c.close()
pending = b""
while True:
    ready, _, _ = select.select([0, s] if accepting else [0], [], [])
    if 0 in ready:
        data = os.read(0, 1024)
        if not data: break
        pending += data
        while b"\\n" in pending:
            line, pending = pending.split(b"\\n", 1)
            accepting = line.strip() == b"open"
            print("ok", flush=True)
    if s in ready and accepting:
        c, _ = s.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()
`;

interface Gate {
  readonly address: string;
  /** Accepts again (queued connects included). */
  open(): Promise<void>;
  /** Stops accepting and fills the accept queue: new connects hang. */
  shut(): Promise<void>;
  stop(): Promise<void>;
}

const startGate = async (accepting: boolean): Promise<Gate> => {
  const child: ChildProcessWithoutNullStreams = spawn("python3", [
    "-c",
    GATE,
    accepting ? "open" : "shut",
  ]);
  child.stderr.pipe(process.stderr);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => {
    const { value, done } = await lines.next();
    if (done === true) throw new Error("the gate process ended");
    return value as string;
  };
  const port = Number(await nextLine());
  const fillers: Socket[] = [];
  const order = async (word: string): Promise<void> => {
    child.stdin.write(`${word}\n`);
    await nextLine();
  };
  const fill = async (): Promise<void> => {
    const filler = await connectTo(port);
    filler.on("error", () => undefined);
    fillers.push(filler);
  };
  if (!accepting) await fill();
  return {
    address: `127.0.0.1:${port}`,
    open: () => order("open"),
    shut: async () => {
      await order("shut");
      await fill();
    },
    stop: async () => {
      for (const filler of fillers) filler.destroy();
      child.stdin.end();
      if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
    },
  };
};

// ----- clients

interface Client {
  readonly socket: Socket;
  /** Resolves once the connection is over (closed by either side), with when it was. */
  readonly ended: Promise<number>;
  /** Writes `text` and resolves once it has come back; rejects if the connection ends first. */
  echo(text: string): Promise<void>;
}

const client = async (port: number): Promise<Client> => {
  const socket = await connectTo(port);
  // A reset from the proxy is how a closed session usually ends.
  socket.on("error", () => undefined);
  let received = "";
  let waiter: (() => void) | null = null;
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString();
    waiter?.();
  });
  const ended = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
  return {
    socket,
    ended,
    echo: (text) =>
      new Promise<void>((resolve, reject) => {
        const before = received.length;
        const check = (): void => {
          if (received.slice(before).includes(text)) {
            waiter = null;
            resolve();
          }
        };
        waiter = check;
        void ended.then(() => reject(new Error(`the connection ended before ${text} came back`)));
        socket.write(text);
      }),
  };
};

/** `promise`, or a rejection naming `what` if it takes longer than `ms`. */
const within = async <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
};

/** How long a closed session may take to end, on a busy machine. */
const ENDS_WITHIN_MS = 5_000;

/** Whether a promise is still pending after the event loop has turned once. */
const pending = async (promise: Promise<unknown>): Promise<boolean> =>
  Promise.race([promise.then(() => false), new Promise<boolean>((r) => setImmediate(r, true))]);

// ----- the command line

const cleanUp = (
  t: ExecutionContext,
  run: CliRun,
  ...ends: Array<{ stop(): Promise<void> } | TestBackend>
) =>
  t.teardown(async () => {
    run.child.kill("SIGKILL");
    for (const end of ends) await ("stop" in end ? end.stop() : end.close());
  });

/** Two echo backends, the primary A shut: a client is relayed to B; then A opens. */
const failbackThroughCli = async (t: ExecutionContext, flags: ReadonlyArray<string>) => {
  const a = await startGate(false);
  const b = await startBackend();
  const run = runCli([
    ...flags,
    // Long enough that a loaded machine's dial to the reopened primary does not time out.
    "-timeout=1s",
    "-probe-delay=100ms",
    "127.0.0.1:0",
    a.address,
    b.address,
  ]);
  cleanUp(t, run, a, b);
  if (flags.includes("-workers=2")) await run.line(/Worker \d+ ready/, 2);
  const port = await listeningPort(run);
  // The first client's dial to A times out: A is marked down, the client goes on to B.
  const onB = await client(port);
  await onB.echo("to B");
  t.is(b.served(), 1);
  await run.line(/Backend 127\.0\.0\.1:\d+ is down: /);
  // The failback comes after this: a drain measured from here is not shorter than it is.
  const openedAt = Date.now();
  await a.open();
  await run.line(/Backend is back/);
  return { a, b, run, port, onB, openedAt };
};

test("CLI -on-failback=close: at the failback the fallback's client is closed and a new client reaches the primary", async (t) => {
  const { a, b, run, port, onB } = await failbackThroughCli(t, ["-on-failback=close"]);
  await within(onB.ended, ENDS_WITHIN_MS, "the client's end");
  const line = await run.line(/Closing connections of backend/);
  t.true(
    line.endsWith(`INFO Closing connections of backend ${b.address}: failback to ${a.address}`),
    line,
  );
  const onA = await client(port);
  await onA.echo("to A");
  t.is(b.served(), 1, "the new client went to A, not B");
  onA.socket.destroy();
  run.child.kill("SIGTERM");
  t.is(await run.exited, 0);
  t.notRegex(run.stderr(), stackTrace);
});

test("CLI -on-failback=keep (the default): the fallback's client goes on after the failback", async (t) => {
  const { b, run, port, onB } = await failbackThroughCli(t, ["-on-failback=keep"]);
  const onA = await client(port);
  await onA.echo("to A");
  t.is(b.served(), 1, "the new client went to A");
  await onB.echo("still on B");
  t.true(await pending(onB.ended));
  t.notRegex(run.stderr(), /Closing connections/);
  onA.socket.destroy();
  onB.socket.destroy();
});

test("CLI -on-failback=drain:300ms: the fallback's client works for the drain time, then is closed", async (t) => {
  const { run, onB, openedAt } = await failbackThroughCli(t, ["-on-failback=drain:300ms"]);
  await onB.echo("still on B after the failback");
  const endedAt = await within(onB.ended, ENDS_WITHIN_MS, "the client's end");
  const drained = endedAt - openedAt;
  t.log(`ended ${drained} ms after the primary opened`);
  t.true(drained >= 300 && drained < 3_000, `ended ${drained} ms after the primary opened`);
  await run.line(/Closing connections of backend .*: failback to /);
});

test("CLI -on-failback=close with -workers=2: the workers close the fallback's client", async (t) => {
  const { run, port, onB } = await failbackThroughCli(t, ["-on-failback=close", "-workers=2"]);
  await within(onB.ended, ENDS_WITHIN_MS, "the client's end");
  await run.line(/Closing connections of backend .*: failback to /);
  const onA = await client(port);
  await onA.echo("to A");
  onA.socket.destroy();
  t.notRegex(run.stderr(), stackTrace);
});

test("CLI -on-down=close: a backend marked down has its live client closed; new clients go on", async (t) => {
  const a = await startGate(true);
  const b = await startBackend();
  const run = runCli([
    "-on-down=close",
    // The gate's accept queue holds one: a dial beside the start-up check may see its SYN
    // dropped and sent again a second later. It must not time out before that.
    "-timeout=3s",
    "-probe-delay=1h",
    "127.0.0.1:0",
    a.address,
    b.address,
  ]);
  cleanUp(t, run, a, b);
  const port = await listeningPort(run);
  const onA = await client(port);
  await onA.echo("to A");
  t.is(b.served(), 0);
  // A stops accepting; its live connection still echoes. The next client's dial times out.
  await a.shut();
  await onA.echo("A still answers");
  const next = await client(port);
  await next.echo("to B");
  await within(onA.ended, ENDS_WITHIN_MS, "the client's end");
  t.regex(
    await run.line(/Closing connections/),
    new RegExp(`Closing connections of backend ${a.address}: marked down$`),
  );
  t.is(b.served(), 1);
  next.socket.destroy();
});

test("CLI: a bad -on-down or -on-failback value is one line naming the flag and the value, exit 2", async (t) => {
  for (const [flag, message] of [
    ["-on-down=drop", 'invalid value "drop" for flag -on-down: must be keep or close'],
    [
      "-on-failback=drain:0s",
      'invalid value "drain:0s" for flag -on-failback: must be keep, close or drain:DURATION above zero',
    ],
    [
      "-on-failback=later",
      'invalid value "later" for flag -on-failback: must be keep, close or drain:DURATION above zero',
    ],
  ] as const) {
    const run = runCli([flag, "127.0.0.1:0", "127.0.0.1:1"]);
    t.is(await run.exited, 2, flag);
    t.is(run.stderr().split("\n")[0], `tcp-fallback: ${message}`);
    t.notRegex(run.stderr(), stackTrace);
  }
});

// ----- the library

/** A probe that fails the primary while `primaryDown()` says so; the rest always pass. */
const switchableProbe =
  (primaryDown: () => boolean) =>
  async (backend: { index: number }): Promise<ProbeResult> =>
    backend.index === 0 && primaryDown()
      ? { ok: false, reason: "the test says down" }
      : { ok: true };

test("library onFailback close: the fallback's client is closed with a sessions-closed event; keep leaves it", async (t) => {
  for (const onFailback of ["close", "keep"] as const) {
    const a = await startBackend();
    const b = await startBackend();
    let primaryDown = true;
    const { proxy, port, events } = await startProxy({
      backends: [a.address, b.address],
      checkInterval: "50ms",
      probeDelay: "50ms",
      probe: switchableProbe(() => primaryDown),
      onFailback,
    });
    t.teardown(async () => {
      await proxy.close();
      await a.close();
      await b.close();
    });
    if (!events.some((e) => e.type === "backend-down"))
      await nextEvent(proxy.events$, "backend-down");
    const onB = await client(port);
    await onB.echo("to B");
    const backUp = nextEvent(proxy.events$, "backend-up");
    primaryDown = false;
    await backUp;
    const onA = await client(port);
    await onA.echo("to A");
    t.is(a.served(), 1, onFailback);
    t.is(b.served(), 1, onFailback);
    if (onFailback === "close") {
      await within(onB.ended, ENDS_WITHIN_MS, "the client's end");
      const closed = events.find((e) => e.type === "sessions-closed");
      t.like(closed, {
        type: "sessions-closed",
        reason: "failback",
        backend: { index: 1 },
        to: { index: 0 },
      });
    } else {
      await onB.echo("still on B");
      t.false(events.some((e) => e.type === "sessions-closed"));
    }
    onA.socket.destroy();
    onB.socket.destroy();
  }
});

test("library onDown close: a backend failing its check has its live client closed; keep leaves it", async (t) => {
  for (const onDown of ["close", "keep"] as const) {
    const a = await startBackend();
    const b = await startBackend();
    let primaryDown = false;
    const { proxy, port, events } = await startProxy({
      backends: [a.address, b.address],
      checkInterval: "50ms",
      probe: switchableProbe(() => primaryDown),
      onDown,
    });
    t.teardown(async () => {
      await proxy.close();
      await a.close();
      await b.close();
    });
    const onA = await client(port);
    await onA.echo("to A");
    const down = nextEvent(proxy.events$, "backend-down");
    primaryDown = true;
    await down;
    if (onDown === "close") {
      await within(onA.ended, ENDS_WITHIN_MS, "the client's end");
      t.like(
        events.find((e) => e.type === "sessions-closed"),
        { reason: "marked down", backend: { index: 0 } },
      );
    } else {
      await onA.echo("A still answers");
      t.false(events.some((e) => e.type === "sessions-closed"));
    }
    const onB = await client(port);
    await onB.echo("to B");
    t.is(b.served(), 1, onDown);
    onA.socket.destroy();
    onB.socket.destroy();
  }
});
