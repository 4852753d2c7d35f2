import cluster, { type Worker } from "node:cluster";
import { fileURLToPath } from "node:url";
import { asyncScheduler } from "rxjs";
import { makeBackends } from "../../domain/backend.js";
import type { RunOptions } from "../../cli/run-options.js";
import type { WorkerPlan } from "../../cli/worker-plan.js";
import type { HealthEvent } from "../../domain/health.js";
import type { Logger } from "../../domain/logger.js";
import { startControlPlane } from "../../control-plane.js";
import { firstHealthy } from "../../streams/route-policies.js";
import { logStats } from "../event-log.js";
import { setLongTimeout } from "../long-timeout.js";
import { describeListening } from "../relay-server.js";
import { type PrimaryMessage, isWorkerMessage } from "./messages.js";

/** Set up in each worker before its program runs: signals and a vanished primary are handled. */
const workerPreload = fileURLToPath(new URL("./worker-preload.cjs", import.meta.url));

export interface Primary {
  /**
   * Resolves once a worker listens; if the address cannot be bound, rejects with the reason
   * once every worker has exited.
   */
  readonly listening: Promise<void>;
  /** Drains every worker, logs final stats, stops the control plane. */
  close(): Promise<void>;
}

/**
 * The primary process: owns the control plane (probes, health, route, stats, logs) and keeps
 * `plan.count` workers running the data plane on the shared listening socket.
 */
export const runPrimary = (options: RunOptions, plan: WorkerPlan, logger: Logger): Primary => {
  // Workers accept from the shared socket themselves: no per-connection hand-off through us.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ execArgv: [...process.execArgv, "--require", workerPreload] });
  const backends = makeBackends(options.backends, options.backendLabels);
  for (const backend of backends) logger.info(`Backend ${backend.label} added`);
  logger.info(plan.note ?? `Starting ${plan.count} worker processes`);
  if (plan.warning !== undefined) logger.warn(plan.warning);
  const control = startControlPlane({
    ...options,
    backends,
    route: firstHealthy,
    logger,
    scheduler: asyncScheduler,
  });

  // Workers that have said they listen: before that, a message to them may be lost.
  const ready = new Set<number>();
  const drainMessage: PrimaryMessage = { kind: "drain", timeoutMs: options.drainTimeoutMs };
  // Connections each worker holds, per backend: if a worker dies, they are closed in the books too.
  const activeByWorker = new Map<number, number[]>();
  let closing = false;
  let announced = false;
  let settleListening: { resolve: () => void; reject: (error: Error) => void } | null = null;
  const listening = new Promise<void>((resolve, reject) => (settleListening = { resolve, reject }));

  const routeMessage = (): PrimaryMessage => ({
    kind: "route",
    backends: control.currentRoute().map((b) => b.index),
  });
  const post = (worker: Worker, message: PrimaryMessage): void => {
    // A worker may be exiting while we write to it: its 'exit' is handled below, not here.
    if (worker.isConnected()) worker.send(message, undefined, () => undefined);
  };

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
    const active = backends.map(() => 0);
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
            control.emit(event);
          }
          return;
        case "log":
          logger[message.level](message.message);
          return;
        case "listening":
          ready.add(worker.id);
          logger.info(`Worker ${worker.process.pid ?? "?"} ready`);
          // A worker that was still starting when shutdown began is drained now.
          post(worker, closing ? drainMessage : routeMessage());
          if (!announced) {
            announced = true;
            logger.info(
              describeListening({ address: message.address, port: message.port, family: "" }),
            );
            settleListening?.resolve();
          }
          return;
        case "listen-failed":
          if (closing) return;
          closing = true;
          // Workers still starting would fail the same way: stop them all, then report.
          void stopWorkers().then(() => {
            routeSubscription.unsubscribe();
            control.stop();
            settleListening?.reject(new Error(message.message));
          });
          return;
      }
    });
  };

  const routeSubscription = control.route$.subscribe(() => {
    const message = routeMessage();
    for (const worker of Object.values(cluster.workers ?? {}))
      if (worker !== undefined) post(worker, message);
  });

  const exited = new Set<() => void>();
  cluster.on("exit", (worker, code, signal) => {
    const active = activeByWorker.get(worker.id) ?? [];
    activeByWorker.delete(worker.id);
    ready.delete(worker.id);
    const at = Date.now();
    active.forEach((n, backend) => {
      for (let i = 0; i < n; i++)
        control.emit({ type: "closed", backend, bytesIn: 0, bytesOut: 0, at });
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
  const stopWorkers = (): Promise<void> => {
    workersStopped ??= (async () => {
      closing = true;
      for (const worker of Object.values(cluster.workers ?? {})) {
        if (worker !== undefined)
          post(worker, { kind: "drain", timeoutMs: options.drainTimeoutMs });
      }
      // Workers close their own stragglers at the drain timeout; this bounds a stuck one.
      const cancelStuck = setLongTimeout(() => {
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGKILL");
      }, options.drainTimeoutMs + 5_000);
      await allExited();
      cancelStuck();
    })();
    return workersStopped;
  };

  let closed: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      await stopWorkers();
      logStats(logger, control.snapshot());
      routeSubscription.unsubscribe();
      control.stop();
    })();
    return closed;
  };

  return { listening, close };
};
