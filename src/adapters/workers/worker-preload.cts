/**
 * Loaded with `--require` into each worker before the program, so it holds from the first
 * instant of a worker's life, even while its modules are still loading.
 */
import cluster from "node:cluster";

// The primary decides when to stop; a Ctrl-C or a service manager's SIGTERM reaching the whole
// process group must not cut connections (or kill a worker that is still starting).
process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => undefined);
// Manual failback is the primary's business; by default SIGUSR2 would end the worker.
process.on("SIGUSR2", () => undefined);

// A write to a primary that is gone (EPIPE, channel closed) is no error of the worker's: the
// 'disconnect' that follows ends the worker. Without this listener Node prints a stack trace
// (already for the "online" message it sends while the worker boots).
cluster.worker?.on("error", () => undefined);
