import cluster, { type Worker } from "node:cluster";
import { fileURLToPath } from "node:url";
import type { BoundAddress, DataPlane, StartDataPlane } from "../../domain/data-plane.js";
import type { HealthEvent } from "../../domain/health.js";
import { type Route, shareOf } from "../../domain/route.js";
import { setLongTimeout } from "../long-timeout.js";
import type { Address } from "../../domain/backend.js";
import { type PrimaryMessage, type WorkerMessage, isWorkerMessage } from "./messages.js";

/** Set up in each worker before its program runs: signals and a vanished primary are handled. */
const workerPreload = fileURLToPath(new URL("./worker-preload.cjs", import.meta.url));

/** How many workers, and what the log says about it. */
export interface FleetPlan {
  readonly count: number;
  readonly note?: string | undefined;
  readonly warning?: string | undefined;
}

/**
 * The data plane as worker processes on a shared listening socket, run by this (primary)
 * process: it forks `plan.count` workers, replaces any that die, pushes them the route, and
 * passes their connection outcomes on. Each worker runs this program again (./worker.ts).
 */
export const workerFleet =
  (plan: FleetPlan): StartDataPlane =>
  ({ emit, now, logger }): DataPlane => {
    // Workers accept from the shared socket themselves: no per-connection hand-off through us.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ execArgv: [...process.execArgv, "--require", workerPreload] });
    logger.info(plan.note ?? `Starting ${plan.count} worker processes`);
    if (plan.warning !== undefined) logger.warn(plan.warning);

    let route: Route = [];
    // Set by a reload: every worker, a new one too, gets it before any route.
    let backendsMessage: PrimaryMessage | null = null;
    // Workers that have said they listen: before that, a message to them may be lost.
    const ready = new Set<number>();
    let drainMessage: PrimaryMessage | null = null;
    // Connections each worker holds, per backend: if a worker dies, they are closed in the books too.
    const activeByWorker = new Map<number, number[]>();
    let closing = false;
    let announced = false;
    let settleListening: {
      resolve: (address: BoundAddress) => void;
      reject: (error: Error) => void;
    } | null = null;
    const listening = new Promise<BoundAddress>(
      (resolve, reject) => (settleListening = { resolve, reject }),
    );

    const routeMessage = (): PrimaryMessage => ({
      kind: "route",
      backends: route.map((b) => b.index),
      share: shareOf(route),
    });
    const post = (worker: Worker, message: PrimaryMessage): void => {
      // A worker may be exiting while we write to it: its 'exit' is handled below, not here.
      if (worker.isConnected()) worker.send(message, undefined, () => undefined);
    };
    const everyWorker = (): Worker[] =>
      Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);

    const record = (active: number[], event: HealthEvent): void => {
      if (event.type === "connected") active[event.backend] = (active[event.backend] ?? 0) + 1;
      else if (event.type === "closed") active[event.backend] = (active[event.backend] ?? 0) - 1;
      else if (event.type === "traffic") {
        for (const d of event.backends)
          active[d.backend] = (active[d.backend] ?? 0) + d.connected - d.closed;
      }
    };

    const fork = (): void => {
      const worker = cluster.fork();
      const active: number[] = [];
      activeByWorker.set(worker.id, active);
      worker.on("error", (error: Error) =>
        logger.debug(`Worker ${worker.process.pid ?? "?"}: ${error.message}`),
      );
      worker.on("message", (message: unknown) => {
        if (!isWorkerMessage(message)) return;
        switch (message.kind) {
          case "events":
            for (const event of message.events) {
              record(active, event);
              emit(event);
            }
            return;
          case "log":
            logger[message.level](message.message);
            return;
          case "listening":
            ready.add(worker.id);
            logger.info(`Worker ${worker.process.pid ?? "?"} ready`);
            if (backendsMessage !== null) post(worker, backendsMessage);
            // A worker that was still starting when shutdown began is drained now.
            post(worker, drainMessage ?? routeMessage());
            if (!announced) {
              announced = true;
              settleListening?.resolve({
                address: message.address,
                family: message.family,
                port: message.port,
              });
            }
            return;
          case "relistened":
          case "relisten-failed":
            relistenAnswers.get(worker.id)?.(message);
            return;
          case "listen-failed":
            if (closing) return;
            closing = true;
            // Workers still starting would fail the same way: stop them all, then report. No
            // worker listens, so none has connections to wait for.
            void stopWorkers(0).then(() => settleListening?.reject(new Error(message.message)));
            return;
        }
      });
    };

    // Workers moving to a new listen address, by id: each answers once (or exits).
    const relistenAnswers = new Map<
      number,
      (answer: Extract<WorkerMessage, { kind: "relistened" | "relisten-failed" }> | null) => void
    >();
    const relisten = async (address: Address): Promise<BoundAddress> => {
      const workers = everyWorker().filter((w) => ready.has(w.id));
      const answers = await Promise.all(
        workers.map(
          (worker) =>
            new Promise<Extract<WorkerMessage, { kind: "relistened" | "relisten-failed" }> | null>(
              (resolve) => {
                relistenAnswers.set(worker.id, (answer) => {
                  relistenAnswers.delete(worker.id);
                  resolve(answer);
                });
                post(worker, { kind: "relisten", address });
              },
            ),
        ),
      );
      // The workers share one listening socket through this process: they all bind or none.
      const failed = answers.find((a) => a?.kind === "relisten-failed");
      if (failed?.kind === "relisten-failed") throw new Error(failed.message);
      const bound = answers.find((a) => a?.kind === "relistened");
      if (bound?.kind !== "relistened") throw new Error("no worker is listening");
      return { address: bound.address, family: bound.family, port: bound.port };
    };

    const exited = new Set<() => void>();
    cluster.on("exit", (worker, code, signal) => {
      relistenAnswers.get(worker.id)?.(null);
      const active = activeByWorker.get(worker.id) ?? [];
      activeByWorker.delete(worker.id);
      ready.delete(worker.id);
      const at = now();
      active.forEach((n, backend) => {
        for (let i = 0; i < n; i++) emit({ type: "closed", backend, bytesIn: 0, bytesOut: 0, at });
      });
      if (!closing) {
        logger.warn(
          `Worker ${worker.process.pid ?? "?"} exited (${signal ?? `code ${code}`}); starting another`,
        );
        fork();
      }
      if (activeByWorker.size === 0) for (const notify of exited) notify();
    });

    for (let i = 0; i < plan.count; i++) fork();

    const allExited = (): Promise<void> =>
      activeByWorker.size === 0 ? Promise.resolve() : new Promise((resolve) => exited.add(resolve));

    /** Drains every worker and waits until all have exited; once. */
    let workersStopped: Promise<void> | null = null;
    const stopWorkers = (timeoutMs: number): Promise<void> => {
      workersStopped ??= (async () => {
        closing = true;
        const drain: PrimaryMessage = { kind: "drain", timeoutMs };
        drainMessage = drain;
        for (const worker of everyWorker()) post(worker, drain);
        // Workers close their own stragglers at the drain timeout; this bounds a stuck one.
        const cancelStuck = setLongTimeout(() => {
          for (const worker of everyWorker()) worker.process.kill("SIGKILL");
        }, timeoutMs + 5_000);
        await allExited();
        cancelStuck();
      })();
      return workersStopped;
    };

    return {
      listening,
      setRoute: (next) => {
        route = next;
        const message = routeMessage();
        for (const worker of everyWorker()) post(worker, message);
      },
      setBackends: (slots) => {
        const message: PrimaryMessage = { kind: "backends", backends: slots };
        backendsMessage = message;
        for (const worker of everyWorker()) post(worker, message);
      },
      relisten,
      drain: stopWorkers,
      // Each worker closes its own and says so in a debug line: nothing to count here.
      closeSessions: (backend) => {
        const message: PrimaryMessage = { kind: "close-sessions", backend };
        for (const worker of everyWorker()) post(worker, message);
      },
    };
  };
