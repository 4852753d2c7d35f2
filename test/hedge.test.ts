import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { once } from "node:events";
import { of } from "rxjs";
import { parseCommandLine } from "../src/cli/parse.js";
import { usage } from "../src/cli/usage.js";
import { createControlPlane, decodeProxySettings, InvalidOptionsError } from "../src/index.js";
import type { ProxyEvent } from "../src/domain/proxy-event.js";
import { listeningPort, runCli } from "./helpers/cli.js";
import {
  connectTo,
  readAll,
  refusedPort,
  roundTrip,
  startBackend,
  startHangingBackend,
} from "./helpers/net.js";
import { startProxy } from "./helpers/proxy.js";
import { dialsPendingTo, eventually, startLateBackend } from "./helpers/slow-connect.js";

// Every test is serial: one holds the event loop, and the others time connects.

// Checks always find every backend up: only client connects can mark one down here.
const alwaysUp = () => of({ ok: true as const });

const downs = (events: ReadonlyArray<ProxyEvent>): string[] =>
  events.flatMap((e) => (e.type === "backend-down" ? [e.backend.label] : []));

const timed = async <T>(work: Promise<T>): Promise<[T, number]> => {
  const started = performance.now();
  const result = await work;
  return [result, performance.now() - started];
};

/** For the absence of an event: nothing to await, so a bounded wait. */
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test.serial(
  "a black-holed primary: with hedge the client reaches the next backend at once, and the primary is not blamed",
  async (t) => {
    const hanging = await startHangingBackend();
    const fallback = await startBackend();
    const { proxy, port, events } = await startProxy({
      backends: [hanging.address, fallback.address],
      hedge: "50ms",
      connectTimeout: "2s",
      probeDelay: "1h",
      probe: alwaysUp,
    });
    t.teardown(async () => {
      await proxy.close();
      await fallback.close();
      await hanging.close();
    });
    const [reply, ms] = await timed(roundTrip(port, "hedged"));
    t.is(reply.toString(), "hedged");
    t.true(ms < 1_000, `${ms} ms`);
    t.is(fallback.served(), 1);
    // The abandoned dial is closed, not left to time out.
    t.true(await eventually(() => dialsPendingTo(hanging.port) === 0));
    // Past the connect timeout: still no verdict on the primary.
    await pause(2_200);
    t.deepEqual(downs(events), []);
    t.false(proxy.snapshot().backends[0]?.failed);
    t.is(proxy.snapshot().backends[0]?.errors, 0);
    t.is(proxy.snapshot().backends[1]?.requests, 1);
  },
);

test.serial(
  "without hedge the same client waits for the connect timeout, and the primary is marked down",
  async (t) => {
    const hanging = await startHangingBackend();
    const fallback = await startBackend();
    const { proxy, port, events } = await startProxy({
      backends: [hanging.address, fallback.address],
      connectTimeout: "1s",
      probeDelay: "1h",
      probe: alwaysUp,
    });
    t.teardown(async () => {
      await proxy.close();
      await fallback.close();
      await hanging.close();
    });
    const [reply, ms] = await timed(roundTrip(port, "patient"));
    t.is(reply.toString(), "patient");
    t.true(ms >= 950, `${ms} ms`);
    t.deepEqual(downs(events), [hanging.address]);
  },
);

test.serial(
  "both dials fail on their own (connect timeout): both backends are blamed, the client goes on to the third",
  async (t) => {
    const first = await startHangingBackend();
    const second = await startHangingBackend();
    const third = await startBackend();
    const { proxy, port, events } = await startProxy({
      backends: [first.address, second.address, third.address],
      hedge: "50ms",
      connectTimeout: "400ms",
      probeDelay: "1h",
      probe: alwaysUp,
    });
    t.teardown(async () => {
      await proxy.close();
      await third.close();
      await first.close();
      await second.close();
    });
    const [reply, ms] = await timed(roundTrip(port, "third"));
    t.is(reply.toString(), "third");
    // The second dial started 50 ms after the first and had its own full timeout.
    t.true(ms >= 430, `${ms} ms`);
    t.is(third.served(), 1);
    t.deepEqual(downs(events), [first.address, second.address]);
    t.is(dialsPendingTo(first.port) + dialsPendingTo(second.port), 0);
  },
);

test.serial(
  "the hedge dial is refused while the first still dials; the first then connects and takes the client",
  async (t) => {
    const late = await startLateBackend();
    const refused = `127.0.0.1:${await refusedPort()}`;
    const { proxy, port, events } = await startProxy({
      backends: [late.address, refused],
      hedge: "50ms",
      connectTimeout: "3s",
      probeDelay: "1h",
      probe: alwaysUp,
    });
    t.teardown(async () => {
      await proxy.close();
      await late.close();
    });
    // Its connect completes at the SYN retransmission, about 1 s in.
    late.openAfter(200);
    const [reply, ms] = await timed(roundTrip(port, "late"));
    t.is(reply.toString(), "late");
    t.true(ms >= 500, `${ms} ms`);
    t.deepEqual(downs(events), [refused]);
    t.is([...late.peers().values()].filter((seen) => seen[0] === "accepted").length, 1);
  },
);

test.serial(
  "the first connects while the hedge dial still hangs: that dial is closed and its backend not blamed",
  async (t) => {
    const late = await startLateBackend();
    const hanging = await startHangingBackend();
    const { proxy, port, events } = await startProxy({
      backends: [late.address, hanging.address],
      hedge: "50ms",
      connectTimeout: "3s",
      probeDelay: "1h",
      probe: alwaysUp,
    });
    t.teardown(async () => {
      await proxy.close();
      await late.close();
      await hanging.close();
    });
    late.openAfter(200);
    const client = await connectTo(port);
    const reply = readAll(client);
    t.true(await eventually(() => dialsPendingTo(hanging.port) === 1));
    client.end("first");
    t.is((await reply).toString(), "first");
    client.destroy();
    t.is(dialsPendingTo(hanging.port), 0);
    await pause(50);
    t.deepEqual(downs(events), []);
    t.is(proxy.snapshot().backends[1]?.errors, 0);
  },
);

test.serial(
  "both connect in the same turn: the earlier backend wins, and the later one's connection is closed cleanly",
  async (t) => {
    const first = await startLateBackend();
    const second = await startLateBackend();
    const { proxy, port, events } = await startProxy({
      backends: [first.address, second.address],
      hedge: "50ms",
      connectTimeout: "8s",
      probeDelay: "1h",
      probe: alwaysUp,
    });
    t.teardown(async () => {
      await proxy.close();
      await first.close();
      await second.close();
    });
    // Both dials hang. The second's backend opens before the second's SYN retransmission (~1.05 s
    // in), the first's only after the first's initial one (~1 s), so before its next (~3 s): the
    // second connects first. This process (and the proxy in it) is held meanwhile, so both
    // connects come out in one turn of the event loop, the second's first.
    const client = await connectTo(port);
    const reply = readAll(client);
    second.openAfter(300);
    first.openAfter(1_500);
    t.true(await eventually(() => dialsPendingTo(second.port) === 1, 1_000));
    const held = new Int32Array(new SharedArrayBuffer(4));
    let firstPending = 1;
    let secondPending = 1;
    let secondConnectedFirst = false;
    for (let i = 0; i < 200 && firstPending + secondPending > 0; i++) {
      Atomics.wait(held, 0, 0, 25);
      firstPending = dialsPendingTo(first.port);
      secondPending = dialsPendingTo(second.port);
      if (firstPending === 1 && secondPending === 0) secondConnectedFirst = true;
    }
    t.is(firstPending + secondPending, 0, "both connects complete while the loop is held");
    t.true(secondConnectedFirst, "the second backend's connect completes first");
    client.end("same turn");
    t.is((await reply).toString(), "same turn");
    client.destroy();
    const [winner] = [...first.peers().values()];
    t.deepEqual(winner?.slice(0, 1), ["accepted"]);
    // The loser was connected: it is closed with a FIN, and its backend sees that.
    await Promise.race([second.next("closed"), second.next("reset")]);
    t.deepEqual([...second.peers().values()], [["accepted", "closed"]]);
    t.deepEqual(downs(events), []);
    t.is(proxy.snapshot().backends[1]?.requests, 0);
  },
);

test.serial(
  "a client that leaves while both dial: both dials are closed, nobody is blamed, nothing is left",
  async (t) => {
    const first = await startHangingBackend();
    const second = await startHangingBackend();
    const { proxy, port, events } = await startProxy({
      backends: [first.address, second.address],
      hedge: "50ms",
      connectTimeout: "5s",
      drainTimeout: "5s",
      probeDelay: "1h",
      probe: alwaysUp,
    });
    t.teardown(async () => {
      await first.close();
      await second.close();
    });
    const client = await connectTo(port);
    const bothDialing = () => dialsPendingTo(first.port) === 1 && dialsPendingTo(second.port) === 1;
    t.true(await eventually(bothDialing));
    // A reset: a FIN alone would be a half-close, which the relay passes on once connected.
    client.resetAndDestroy();
    const noneDialing = () => dialsPendingTo(first.port) + dialsPendingTo(second.port) === 0;
    t.true(await eventually(noneDialing, 1_000));
    // The relay is over: closing does not wait for the drain timeout.
    const [, ms] = await timed(proxy.close());
    t.true(ms < 1_000, `${ms} ms`);
    t.deepEqual(downs(events), []);
    t.is(proxy.snapshot().totals.active, 0);
  },
);

test.serial("a client that leaves before the hedge delay: no second dial is made", async (t) => {
  const hanging = await startHangingBackend();
  const fallback = await startBackend();
  const { proxy, port, events } = await startProxy({
    backends: [hanging.address, fallback.address],
    hedge: "1s",
    connectTimeout: "5s",
    probeDelay: "1h",
    probe: alwaysUp,
  });
  t.teardown(async () => {
    await proxy.close();
    await fallback.close();
    await hanging.close();
  });
  const client = await connectTo(port);
  t.true(await eventually(() => dialsPendingTo(hanging.port) === 1));
  client.resetAndDestroy();
  await once(client, "close");
  t.true(await eventually(() => dialsPendingTo(hanging.port) === 0, 900));
  // Past the hedge delay: the timer was stopped with the dial.
  await pause(1_200);
  t.is(fallback.accepted.length, 0);
  t.is(dialsPendingTo(hanging.port), 0);
  t.deepEqual(downs(events), []);
});

test.serial(
  "hedge is a positive duration for the proxy, and not an option of the socket-less control plane",
  (t) => {
    const settings = decodeProxySettings({ listen: ":1", backends: ["a:1"], hedge: "20ms" });
    t.is(E.isRight(settings) ? settings.right.hedgeMs : undefined, 20);
    const zero = decodeProxySettings({ listen: ":1", backends: ["a:1"], hedge: 0 });
    t.is(E.isLeft(zero) ? zero.left : "", "options.hedge: must be greater than zero, got 0");
    const error = t.throws(
      () =>
        createControlPlane({ backends: ["a:1"], hedge: "20ms" } as unknown as Parameters<
          typeof createControlPlane
        >[0]),
      { instanceOf: InvalidOptionsError },
    );
    t.regex(error?.problems[0] ?? "", /^options\.hedge: unknown option/);
  },
);

test.serial("-hedge takes a positive duration; it is off by default", async (t) => {
  const parsed = await parseCommandLine(["-hedge=20ms", ":3306", "db1:3306", "db2:3306"]);
  t.is(E.isRight(parsed) && parsed.right.kind === "run" ? parsed.right.hedgeMs : 0, 20);
  const plain = await parseCommandLine([":3306", "db1:3306"]);
  t.is(E.isRight(plain) && plain.right.kind === "run" ? plain.right.hedgeMs : 0, undefined);
  t.deepEqual(
    await parseCommandLine(["-hedge=0", ":3306", "db1:3306"]),
    E.left({ message: 'invalid value "0" for flag -hedge: must be positive' }),
  );
  t.regex(usage, /^ +-hedge duration +if a backend.s connect is not done/m);
});

test.serial(
  "-workers=2 -hedge: clients of every worker get past a black-holed primary at once",
  async (t) => {
    const hanging = await startHangingBackend();
    const fallback = await startBackend();
    t.teardown(async () => {
      await fallback.close();
      await hanging.close();
    });
    const run = runCli([
      "-workers=2",
      "-hedge=50ms",
      "-timeout=4s",
      "-probe-delay=1h",
      "-stats=0",
      "127.0.0.1:0",
      hanging.address,
      fallback.address,
    ]);
    t.teardown(() => run.child.kill("SIGKILL"));
    const port = await listeningPort(run);
    const [replies, ms] = await timed(
      Promise.all(Array.from({ length: 8 }, (_, i) => roundTrip(port, `w${i}`))),
    );
    t.deepEqual(
      replies.map((r) => r.toString()),
      Array.from({ length: 8 }, (_, i) => `w${i}`),
    );
    // Well within the 4 s connect timeout each would wait without -hedge (margin for a busy host).
    t.true(ms < 2_000, `${ms} ms`);
    t.is(fallback.served(), 8);
    // The start-up check has its own 4 s; no client connect has blamed the primary.
    t.notRegex(run.stderr(), /marked down/);
    run.child.kill("SIGTERM");
    t.is(await run.exited, 0);
  },
);
