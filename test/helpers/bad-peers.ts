import { once } from "node:events";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { lastValueFrom, from } from "rxjs";
import type { Backend } from "../../src/domain/backend.js";
import type { Probe, ProbeResult } from "../../src/domain/probe.js";
import { type TestBackend, startBackend } from "./net.js";

/** Misbehaving servers on loopback, for checks that must fail cleanly against them. */

/** Accepts and never says a word. */
export const startSilentServer = (): Promise<TestBackend> => startBackend(() => undefined);

/**
 * Answers `chunk` over and over (minding backpressure) until the client goes away. One write
 * per turn of the event loop: the checks under test run in this process and must get to read.
 */
export const startFloodServer = (chunk: string, first = ""): Promise<TestBackend> =>
  startBackend((socket) => {
    const bytes = Buffer.from(chunk.repeat(Math.ceil(4096 / chunk.length)));
    const pump = (): void => {
      if (socket.destroyed || !socket.writable) return;
      if (socket.write(bytes)) setImmediate(pump);
      else socket.once("drain", pump);
    };
    socket.write(first);
    pump();
  });

/** Answers `first`, then one byte of `trickle` every `everyMs`: never idle, never done. */
export const startTrickleServer = (first: string, trickle: string, everyMs = 50) =>
  startBackend((socket) => {
    socket.write(first);
    const timer = setInterval(() => socket.write(trickle), everyMs);
    socket.on("close", () => clearInterval(timer));
  });

/**
 * Writes each part as its own TCP segment (a pause between them), then closes if `close`:
 * an answer split over several reads, or cut off midway.
 */
export const startScriptServer = (
  parts: ReadonlyArray<string | Buffer>,
  close = false,
  pauseMs = 30,
): Promise<TestBackend> =>
  startBackend((socket) => {
    socket.setNoDelay(true);
    socket.once("data", async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        socket.write(part);
        await sleep(pauseMs);
      }
      if (close) socket.destroy();
    });
  });

/** Like startScriptServer, but speaks first (a banner), before the client sends anything. */
export const startBannerServer = (parts: ReadonlyArray<string>, close = false, pauseMs = 30) =>
  startBackend(async (socket) => {
    socket.setNoDelay(true);
    for (const part of parts) {
      if (socket.destroyed) return;
      socket.write(part);
      await sleep(pauseMs);
    }
    if (close) socket.end();
  });

/** Whether `socket` saw the client's FIN or close within `ms` (a check must not leak it). */
export const closedWithin = async (socket: Socket, ms: number): Promise<boolean> => {
  if (socket.readableEnded || socket.destroyed) return true;
  socket.resume();
  const bound = new AbortController();
  try {
    return await Promise.race([
      // A reset (an error) is a close too.
      Promise.race([once(socket, "end"), once(socket, "close")]).then(
        () => true,
        () => true,
      ),
      sleep(ms, undefined, { signal: bound.signal }).then(() => false),
    ]);
  } finally {
    bound.abort();
  }
};

/** Waits (bounded) until the server has accepted a connection, returns the first. */
export const firstAccepted = async (server: TestBackend, ms = 2_000): Promise<Socket> => {
  const started = Date.now();
  while (server.accepted.length === 0 && Date.now() - started < ms) await sleep(5);
  const socket = server.accepted[0];
  if (socket === undefined) throw new Error("the check never connected");
  return socket;
};

export const backendAt = (port: number, index = 0): Backend => ({
  index,
  id: `127.0.0.1:${port}`,
  address: { host: "127.0.0.1", port },
  label: `127.0.0.1:${port}`,
});

/** Runs a probe once; rejects if it gives no verdict within `boundMs` (the check must bound itself). */
export const runProbe = async (
  probe: Probe,
  backend: Backend,
  boundMs = 15_000,
): Promise<ProbeResult> => {
  const bound = new AbortController();
  try {
    return await Promise.race([
      lastValueFrom(from(probe(backend))),
      sleep(boundMs, undefined, { signal: bound.signal }).then(() => {
        throw new Error(`the check gave no verdict within ${boundMs} ms`);
      }),
    ]);
  } finally {
    bound.abort();
  }
};
