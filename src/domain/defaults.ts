/** The original program's defaults, shared by the CLI and the library options. */
export const defaults = {
  connectTimeoutMs: 5_000,
  probeDelayMs: 30_000,
  statsIntervalMs: 15 * 60_000,
  drainTimeoutMs: 10_000,
} as const;
