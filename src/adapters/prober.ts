import { Observable } from "rxjs";
import type { Backend } from "../domain/backend.js";
import type { ProbeResult } from "../domain/probe.js";
import { dialWithTimeout } from "./dialer.js";

/**
 * A health check that passes when a TCP connect succeeds within `timeoutMs`. A dial that fails
 * for a local reason completes without a result: the backend keeps its state until the next check.
 * The latency runs from the dial to the connect or the failure (name lookup included).
 */
export const tcpConnectProbe =
  (timeoutMs: number) =>
  (backend: Backend): Observable<ProbeResult> =>
    new Observable<ProbeResult>((subscriber) => {
      const started = performance.now();
      const socket = dialWithTimeout(backend.address, timeoutMs, (outcome) => {
        if (outcome.ok) outcome.socket.destroy();
        else if (outcome.aborted) return;
        // Out of descriptors (or ports...) here says nothing about the backend: no verdict.
        else if (outcome.local) return subscriber.complete();
        const latencyMs = performance.now() - started;
        subscriber.next(
          outcome.ok ? { ok: true, latencyMs } : { ok: false, reason: outcome.reason, latencyMs },
        );
        subscriber.complete();
      });
      return () => socket.destroy();
    });
