import type { Observable } from "rxjs";
import type { Backend } from "../../domain/backend.js";
import type { CheckSettings } from "../../domain/check.js";
import type { Probe, ProbeResult } from "../../domain/probe.js";
import {
  type RespReply,
  encodeRespPipeline,
  infoField,
  parseRespReplies,
} from "../../domain/resp.js";
import { escapeCheckText } from "../../domain/check-text.js";
import { type Judge, exchange } from "./exchange.js";

const failed = (reason: string): ProbeResult => ({ ok: false, reason });

/** A server's text in a reason: one line, no control bytes, not a whole page. */
const serverText = (text: string): string => escapeCheckText(text.slice(0, 200));

/** AUTH first when there is a password; ACL users (Redis 6+) log in with `AUTH user password`. */
const authCommands = ({ user, password }: CheckSettings): string[][] =>
  password === undefined
    ? []
    : [user === undefined || user === "" ? ["AUTH", password] : ["AUTH", user, password]];

/** AUTH answers +OK (an error reply is judged before this). */
const authFailure = (reply: RespReply): ProbeResult | null =>
  reply.type === "simple" && reply.text === "OK"
    ? null
    : failed("redis: unexpected answer to AUTH");

/**
 * One pipelined exchange: the AUTH (if any) and a last command, in one write; `last` judges the
 * last reply. Replies are parsed from all the bytes read so far, so a reply split over several
 * TCP segments waits for the rest; an error reply fails the check at once with the server's text.
 */
const redisExchange = (
  settings: CheckSettings,
  command: ReadonlyArray<string>,
  last: (reply: RespReply) => ProbeResult,
): Probe => {
  const auth = authCommands(settings);
  const request = encodeRespPipeline([...auth, command]);
  const count = auth.length + 1;
  const judge: Judge = (answer) => {
    const parsed = parseRespReplies(answer, count);
    // Replies come in order: judge each one that is complete, even if a later one is not.
    for (const [index, reply] of parsed.replies.entries()) {
      if (reply.type === "error") return failed(`redis: ${serverText(reply.text)}`);
      if (index < auth.length) {
        const verdict = authFailure(reply);
        if (verdict !== null) return verdict;
      } else return last(reply);
    }
    if (parsed.kind === "invalid") return failed(`redis: ${parsed.reason}`);
    return null;
  };
  return (backend: Backend): Observable<ProbeResult> =>
    exchange(backend.address, settings.timeoutMs, request, judge);
};

/** Passes when the server answers PING with +PONG (after AUTH when a password is set). */
export const redisCheck = (settings: CheckSettings): Probe =>
  redisExchange(settings, ["PING"], (reply) =>
    reply.type === "simple" && reply.text === "PONG"
      ? { ok: true }
      : failed("redis: unexpected answer to PING"),
  );

/**
 * Passes only on a primary: `INFO replication` says `role:master`. A replica fails with its
 * role as the reason (`role:slave`), so the backend is marked down while it is one.
 */
export const redisPrimaryCheck = (settings: CheckSettings): Probe =>
  redisExchange(settings, ["INFO", "replication"], (reply) => {
    if (reply.type !== "bulk" || reply.text === null)
      return failed("redis: unexpected answer to INFO replication");
    const role = infoField(reply.text, "role");
    if (role === undefined) return failed("redis: no role in INFO replication");
    return role === "master" ? { ok: true, role: "primary" } : failed(`role:${serverText(role)}`);
  });
