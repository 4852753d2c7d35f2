import * as E from "fp-ts/lib/Either.js";
import { type Observable, of } from "rxjs";
import { type Backend, formatAddress } from "../../domain/backend.js";
import type { CheckSettings } from "../../domain/check.js";
import { checkHttpPath } from "../../domain/check-text.js";
import type { Probe, ProbeResult } from "../../domain/probe.js";
import { type Judge, exchange } from "./exchange.js";

export interface HttpCheckSettings extends CheckSettings {
  /** What to GET, e.g. "/health". */
  readonly path: string;
}

const NOT_HTTP: ProbeResult = { ok: false, reason: "not an HTTP answer" };
const STATUS_LINE = /^HTTP\/\d(?:\.\d)? (\d{3})(?: [^\r\n]*)?$/;
const PREFIX = "HTTP/";

/**
 * Judges an answer by its status line alone, as soon as that line is in; the headers and body
 * are not read. Bytes that cannot begin an HTTP answer fail at once.
 */
const judgeStatusLine: Judge = (answer, ended) => {
  const head = answer.toString("latin1", 0, Math.min(answer.length, PREFIX.length));
  if (!PREFIX.startsWith(head)) return NOT_HTTP;
  const lineEnd = answer.indexOf("\n");
  if (lineEnd < 0 && !ended) return null;
  const line = answer.toString("latin1", 0, lineEnd < 0 ? answer.length : lineEnd);
  const status = STATUS_LINE.exec(line.replace(/\r$/, ""))?.[1];
  // A status line cut off by the server's close counts if it is whole; else it closed mid-answer.
  if (status === undefined) return lineEnd < 0 ? null : NOT_HTTP;
  return status.startsWith("2") ? { ok: true } : { ok: false, reason: `HTTP ${status}` };
};

/**
 * Passes when `GET path` answers 2xx; a redirect or any other status fails with it as the
 * reason (`HTTP 503`).
 */
export const httpCheck = (settings: HttpCheckSettings): Probe => {
  const path = checkHttpPath(settings.path);
  // A bad path is refused when the options are decoded; here it only fails every check.
  if (E.isLeft(path)) return () => of({ ok: false, reason: path.left });
  return (backend: Backend): Observable<ProbeResult> =>
    exchange(
      backend.address,
      settings.timeoutMs,
      Buffer.from(
        `GET ${path.right} HTTP/1.1\r\n` +
          `Host: ${formatAddress(backend.address)}\r\n` +
          "User-Agent: tcp-fallback health check\r\n" +
          "Accept: */*\r\n" +
          "Connection: close\r\n\r\n",
        "latin1",
      ),
      judgeStatusLine,
    );
};
