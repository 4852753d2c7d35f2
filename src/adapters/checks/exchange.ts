import { Observable } from "rxjs";
import type { Address } from "../../domain/backend.js";
import { formatDuration } from "../../domain/duration.js";
import type { ProbeResult } from "../../domain/probe.js";
import { MAX_TIMER_DELAY_MS } from "../../domain/timer-limit.js";
import { dialWithTimeout } from "../dialer.js";

/** The most a check reads before it gives up on an answer: a garbage stream cannot grow memory. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Judges the bytes read so far: a verdict, or null to read more. `ended` is true once the peer
 * has closed its side (the last chance for a verdict).
 */
export type Judge = (answer: Buffer, ended: boolean) => ProbeResult | null;

/**
 * One exchange on a fresh TCP connection: connect, write `request` (if any), read until `judge`
 * gives a verdict, then close. Bounded by `timeoutMs` from the start; every path closes the
 * socket. A dial that fails for a local reason (out of descriptors) completes with no verdict.
 */
export const exchange = (
  address: Address,
  timeoutMs: number,
  request: Buffer | null,
  judge: Judge,
): Observable<ProbeResult> =>
  new Observable<ProbeResult>((subscriber) => {
    const started = Date.now();
    let answer: Buffer = Buffer.alloc(0);
    let deadline: NodeJS.Timeout | undefined;
    const finish = (result: ProbeResult): void => {
      clearTimeout(deadline);
      socket.destroy();
      subscriber.next({ ...result, latencyMs: Date.now() - started });
      subscriber.complete();
    };
    const onData = (chunk: Buffer): void => {
      answer = answer.length === 0 ? chunk : Buffer.concat([answer, chunk]);
      const verdict = judge(answer, false);
      if (verdict !== null) finish(verdict);
      else if (answer.length >= MAX_ANSWER_BYTES)
        finish({ ok: false, reason: `no valid answer in the first ${MAX_ANSWER_BYTES} bytes` });
    };
    const onEnd = (): void =>
      finish(
        judge(answer, true) ?? {
          ok: false,
          reason:
            answer.length === 0
              ? "closed the connection without an answer"
              : "closed the connection mid-answer",
        },
      );
    const onError = (error: Error): void =>
      finish({ ok: false, reason: `connection failed: ${error.message}` });
    const socket = dialWithTimeout(address, timeoutMs, (outcome) => {
      if (!outcome.ok) {
        if (outcome.aborted) return;
        if (outcome.local) return subscriber.complete();
        return finish({ ok: false, reason: outcome.reason });
      }
      const elapsed = Date.now() - started;
      // The rest of the bound covers the answer: a server that accepts and says nothing fails,
      // and so does one that trickles bytes (an idle timeout would restart on each of them).
      deadline = setTimeout(
        () => finish({ ok: false, reason: `no answer within ${formatDuration(timeoutMs)}` }),
        Math.max(1, Math.min(timeoutMs - elapsed, MAX_TIMER_DELAY_MS)),
      );
      socket.on("data", onData);
      socket.on("end", onEnd);
      socket.on("error", onError);
      if (request !== null && request.length > 0) socket.write(request);
    });
    return () => {
      clearTimeout(deadline);
      socket.destroy();
    };
  });
