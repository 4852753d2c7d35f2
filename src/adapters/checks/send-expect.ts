import { type Observable, defer, map } from "rxjs";
import type { Backend } from "../../domain/backend.js";
import type { CheckSettings } from "../../domain/check.js";
import { quoteAnswer } from "../../domain/check-text.js";
import type { Probe, ProbeResult } from "../../domain/probe.js";
import { exchange } from "./exchange.js";

export interface SendExpectSettings extends CheckSettings {
  /** Sent first, one byte per char (latin1); empty: send nothing, just read (a banner). */
  readonly send: string;
  /** What the bytes read so far (as latin1) must match. */
  readonly expect: RegExp;
}

/**
 * Sends `send`, then passes as soon as the bytes read so far match `expect`. An answer that
 * has not matched when the server closes, the time is up or the byte limit is reached fails
 * with the start of what came.
 */
export const sendExpectCheck = (settings: SendExpectSettings): Probe => {
  // Without g/y a RegExp keeps no state between tests, so one serves every check.
  const expect = new RegExp(settings.expect.source, settings.expect.flags.replace(/[gy]/g, ""));
  const request = settings.send === "" ? null : Buffer.from(settings.send, "latin1");
  const didNotMatch = (answer: Buffer): ProbeResult => ({
    ok: false,
    reason: `answer did not match ${String(expect)}: ${quoteAnswer(answer.toString("latin1"))}`,
  });
  return (backend: Backend): Observable<ProbeResult> =>
    defer(() => {
      // What this check has read so far, to say what came if time or the byte limit runs out.
      let seen: Buffer | null = null;
      let judged = false;
      return exchange(backend.address, settings.timeoutMs, request, (answer, ended) => {
        seen = answer;
        if (expect.test(answer.toString("latin1"))) {
          judged = true;
          return { ok: true };
        }
        if (!ended || answer.length === 0) return null;
        judged = true;
        return didNotMatch(answer);
      }).pipe(
        // Out of time or bytes (or the peer reset) after some answer: say what came instead.
        map((result) =>
          result.ok || judged || seen === null || seen.length === 0
            ? result
            : { ...result, ...didNotMatch(seen) },
        ),
      );
    });
};
