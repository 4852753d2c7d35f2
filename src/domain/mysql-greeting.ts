import type { ProbeResult } from "./probe.js";

/**
 * Judging a MySQL/MariaDB server's first words. The server speaks first: a greeting (protocol
 * version 10) or an error packet when it takes no clients. The check answers the greeting with a
 * login attempt and wants the server's answer to it too (see the mysql check adapter).
 */

/** A packet's header: 3-byte little-endian payload length, 1-byte sequence id. */
const HEADER_BYTES = 4;
const PROTOCOL_V10 = 0x0a;
const ERROR_PACKET = 0xff;
/** A real greeting is under 200 bytes; a larger "length" is some other protocol's bytes. */
const MAX_GREETING_BYTES = 4096;

/** Errors after a login attempt that mean the server takes no new clients (others are alive). */
const REFUSES_CLIENTS: ReadonlySet<number> = new Set([
  1040, // ER_CON_COUNT_ERROR: Too many connections
  1053, // ER_SERVER_SHUTDOWN
  3032, // ER_SERVER_OFFLINE_MODE
]);

const notMysql: ProbeResult = { ok: false, reason: "not a MySQL greeting" };

interface Packet {
  readonly sequence: number;
  readonly payload: Buffer;
  /** Where the next packet starts. */
  readonly end: number;
}

/** The packet at `offset` once it is all in; null while it is incomplete. */
const packetAt = (bytes: Buffer, offset: number): Packet | null => {
  if (bytes.length < offset + HEADER_BYTES) return null;
  const length = bytes.readUIntLE(offset, 3);
  const end = offset + HEADER_BYTES + length;
  if (bytes.length < end) return null;
  return {
    sequence: bytes[offset + 3] ?? 0,
    payload: bytes.subarray(offset + HEADER_BYTES, end),
    end,
  };
};

/** An error packet's code and message (after the greeting it carries `#` and a 5-char SQL state). */
const errorOf = (payload: Buffer): { readonly code: number; readonly message: string } => {
  const code = payload.length >= 3 ? payload.readUInt16LE(1) : 0;
  const text = payload.subarray(3);
  const message = (text[0] === 0x23 ? text.subarray(6) : text).toString("utf8");
  return { code, message: message.length > 0 ? message : `error ${code}` };
};

const refused = (payload: Buffer): ProbeResult => ({
  ok: false,
  reason: `mysql: ${errorOf(payload).message}`,
});

/** The greeting's verdict alone: null if good (or still coming), else the failure. */
const judgeGreeting = (answer: Buffer): ProbeResult | null => {
  if (answer.length <= HEADER_BYTES) return null;
  const kind = answer[HEADER_BYTES];
  // Decide as soon as the first payload byte is in: garbage need not fill a bogus length.
  if (
    (kind !== PROTOCOL_V10 && kind !== ERROR_PACKET) ||
    answer[3] !== 0 ||
    answer.readUIntLE(0, 3) > MAX_GREETING_BYTES
  )
    return notMysql;
  const greeting = packetAt(answer, 0);
  if (greeting === null) return null;
  if (kind === ERROR_PACKET) return refused(greeting.payload);
  // Protocol 10 goes on with the server's version, NUL-terminated.
  if (greeting.payload.indexOf(0, 1) < 0) return notMysql;
  return null;
};

/**
 * Judges the bytes a server sent so far (see `Judge` in the exchange adapter): ok once a v10
 * greeting and the answer to the login attempt are in, unless that answer says the server takes
 * no clients; an error packet instead of a greeting fails with its message; anything else fails
 * "not a MySQL greeting". null: read more.
 */
export const judgeMysqlAnswer = (answer: Buffer, ended: boolean): ProbeResult | null => {
  const greetingVerdict = judgeGreeting(answer);
  if (greetingVerdict !== null) return greetingVerdict;
  const greeting = packetAt(answer, 0);
  if (greeting === null) return null;
  const reply = packetAt(answer, greeting.end);
  if (reply === null)
    return ended ? { ok: false, reason: "closed the connection after its greeting" } : null;
  if (reply.payload[0] === ERROR_PACKET && REFUSES_CLIENTS.has(errorOf(reply.payload).code))
    return refused(reply.payload);
  // OK, access denied, an auth switch: the server answers logins.
  return { ok: true };
};
