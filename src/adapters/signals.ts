/** Runs `handler` on each of `signals`; returns a function that removes the handlers. */
export const onSignals = (
  signals: ReadonlyArray<NodeJS.Signals>,
  handler: (signal: NodeJS.Signals) => void,
): (() => void) => {
  for (const signal of signals) process.on(signal, handler);
  return () => {
    for (const signal of signals) process.removeListener(signal, handler);
  };
};

/** Stop: graceful shutdown. */
export const shutdownSignals: ReadonlyArray<NodeJS.Signals> = ["SIGTERM", "SIGINT"];
/** Reopen log files after rotation: SIGUSR1, and SIGHUP as the original program used. */
export const reopenSignals: ReadonlyArray<NodeJS.Signals> = ["SIGUSR1", "SIGHUP"];
/** Manual failback (-failback=manual): new clients go back to the first healthy backend. */
export const failbackSignals: ReadonlyArray<NodeJS.Signals> = ["SIGUSR2"];
