/**
 * Sinks must not throw on I/O errors, but silently losing the log would hide the outage.
 * Tell stderr once when a sink starts failing; stay quiet until it has worked again.
 */
export class FailureReport {
  private failing = false;

  constructor(private readonly what: string) {}

  failed(reason: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.notice(reason);
  }

  /** For one-off events (a failed reopen per rotation) that should each be seen. */
  notice(reason: unknown): void {
    try {
      process.stderr.write(`tcp-fallback: ${this.what}: ${describeError(reason)}\n`);
    } catch {
      // stderr itself is gone; there is nowhere left to report to.
    }
  }

  succeeded(): void {
    this.failing = false;
  }
}

export function describeError(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
