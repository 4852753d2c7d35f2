/**
 * failover: a steady stream of new clients (one every 2 ms, each an 8-byte echo with a 1 s
 * budget) while the primary is killed (listener closed, connections reset: connects are refused)
 * and later restarted on the same port. The backends record each client's token, so every client
 * is known to have reached the primary or the fallback.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { EchoBackend, TOKEN_BYTES, echoConnection } from "../lib/net.js";
import { cpuWindow } from "../lib/proc.js";
import type { PeerDef } from "../peers/peers.js";
import type { Scenario } from "./scenario.js";

const INTERVAL_MS = 2;
const CLIENT_TIMEOUT_MS = 1000;
/** A phase ends once this many consecutive clients went where they should. */
const STABLE_CLIENTS = 50;
/** Bound of each phase, whatever the proxy does. */
const PHASE_CAP_MS = 10_000;

type Via = "primary" | "fallback" | "unknown";

interface Attempt {
  readonly start: number;
  end: number | null;
  via: Via | null;
  error: string | null;
}

const now = (): number => performance.now();

/** Clients started since `since` whose results are all in, oldest first. */
const settledSince = (attempts: ReadonlyArray<Attempt>, since: number): Attempt[] => {
  const after = attempts.filter((a) => a.start >= since);
  const pending = after.findIndex((a) => a.end === null);
  return pending < 0 ? after : after.slice(0, pending);
};

/** Whether the last STABLE_CLIENTS settled clients since `since` all reached `via`. */
const stableOn = (attempts: ReadonlyArray<Attempt>, since: number, via: Via): boolean => {
  const done = settledSince(attempts, since);
  return done.length >= STABLE_CLIENTS && done.slice(-STABLE_CLIENTS).every((a) => a.via === via);
};

const waitStable = async (
  attempts: ReadonlyArray<Attempt>,
  since: number,
  via: Via,
): Promise<void> => {
  while (!stableOn(attempts, since, via) && now() - since < PHASE_CAP_MS) await sleep(20);
};

/**
 * Time from `since` until clients reach `via` for good: the end of the first client that got
 * there having started after the last one that did not (failed or went elsewhere).
 */
export const switchTime = (
  attempts: ReadonlyArray<Attempt>,
  since: number,
  until: number,
  via: Via,
): number | null => {
  const phase = attempts.filter((a) => a.start >= since && a.start < until);
  const lastMiss = phase.reduce((last, a) => (a.via === via ? last : Math.max(last, a.start)), -1);
  const first = phase.find((a) => a.via === via && a.start > lastMiss && a.end !== null);
  return first === undefined || first.end === null ? null : first.end - since;
};

export const failover: Scenario = {
  name: "failover",
  title: "primary killed and restarted under a stream of new clients",
  tools: [],
  metrics: [
    { key: "failoverMs", label: "failover ms", better: "lower", perCore: false },
    { key: "failed", label: "failed clients", better: "lower", perCore: false },
    { key: "failbackMs", label: "failback ms", better: "lower", perCore: false },
  ],
  applies: (peer: PeerDef) => (peer.hasFallback ? null : "no fallback backend"),
  prepare: async (ctx) => ({
    measure: async (peer) => {
      const primary = await EchoBackend.start();
      const fallback = await EchoBackend.start();
      const proxy = await peer.start(ctx, { primary: primary.port, fallback: fallback.port });
      const attempts: Attempt[] = [];
      let counter = 0;
      const launch = (): void => {
        const attempt: Attempt = { start: now(), end: null, via: null, error: null };
        attempts.push(attempt);
        const token = (counter++).toString(36).padStart(TOKEN_BYTES, "0");
        echoConnection(proxy.port, token, CLIENT_TIMEOUT_MS).then(
          (socket) => {
            socket.destroy();
            attempt.via = primary.tokens.has(token)
              ? "primary"
              : fallback.tokens.has(token)
                ? "fallback"
                : "unknown";
            attempt.end = now();
          },
          (error: Error) => {
            attempt.error = error.message;
            attempt.end = now();
          },
        );
      };
      const window = cpuWindow(proxy.pid);
      const stream = setInterval(launch, INTERVAL_MS);
      try {
        const started = now();
        await sleep(Math.min(1000, (ctx.options.seconds * 1000) / 2));
        await waitStable(attempts, started, "primary");
        const killedAt = now();
        primary.kill();
        await waitStable(attempts, killedAt, "fallback");
        const restartedAt = now();
        await primary.listen();
        await waitStable(attempts, restartedAt, "primary");
        clearInterval(stream);
        // Every client has its own 1 s budget: the last ones are in soon after.
        const deadline = now() + CLIENT_TIMEOUT_MS + 500;
        while (attempts.some((a) => a.end === null) && now() < deadline) await sleep(20);
        const { cpuSeconds, wallSeconds } = window.stop();
        const failed = (from: number, to: number): number =>
          attempts.filter((a) => a.error !== null && a.start >= from && a.start < to).length;
        const errors = new Map<string, number>();
        for (const a of attempts)
          if (a.error !== null) errors.set(a.error, (errors.get(a.error) ?? 0) + 1);
        return {
          figures: {
            failoverMs: switchTime(attempts, killedAt, restartedAt, "fallback"),
            // New clients only: one mid-echo on the primary when it dies is lost whatever the proxy.
            failed: failed(killedAt, Infinity),
            failbackMs: switchTime(attempts, restartedAt, Infinity, "primary"),
          },
          cpuSeconds,
          wallSeconds,
          details: {
            clients: attempts.length,
            failedBeforeKill: failed(0, killedAt),
            failedWhilePrimaryDown: failed(killedAt, restartedAt),
            failedAfterRestart: failed(restartedAt, Infinity),
            reachedNeither: attempts.filter((a) => a.via === "unknown").length,
            downPhaseMs: restartedAt - killedAt,
            errors: [...errors].map(([error, n]) => `${error}: ${n}`).join(", "),
          },
        };
      } finally {
        clearInterval(stream);
        await proxy.stop();
        await primary.close();
        await fallback.close();
      }
    },
    close: async () => undefined,
  }),
};
