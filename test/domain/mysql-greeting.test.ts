import test from "ava";
import { judgeMysqlAnswer } from "../../src/domain/mysql-greeting.js";

/** A wire packet: 3-byte little-endian length, sequence id, payload. */
const packet = (sequence: number, payload: Buffer): Buffer => {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequence;
  return Buffer.concat([header, payload]);
};

const greeting = packet(
  0,
  Buffer.concat([
    Buffer.from([0x0a]),
    Buffer.from("10.11.18-MariaDB\0", "latin1"),
    Buffer.from([1, 0, 0, 0]),
    Buffer.from("abcdefgh\0", "latin1"),
    Buffer.alloc(20),
  ]),
);

/** An error packet: 0xff, code, then (after the greeting) `#` and a SQL state before the message. */
const errorPacket = (
  sequence: number,
  code: number,
  message: string,
  sqlState?: string,
): Buffer => {
  const head = Buffer.from([0xff, code & 0xff, code >> 8]);
  const state = sqlState === undefined ? Buffer.alloc(0) : Buffer.from(`#${sqlState}`, "latin1");
  return packet(sequence, Buffer.concat([head, state, Buffer.from(message, "utf8")]));
};

const okPacket = packet(2, Buffer.from([0, 0, 0, 2, 0, 0, 0]));
const denied = errorPacket(2, 1045, "Access denied for user 'x'@'h' (using password: NO)", "28000");
const tooMany = errorPacket(2, 1040, "Too many connections", "08004");
const blocked = errorPacket(
  0,
  1129,
  "Host '10.0.0.9' is blocked because of many connection errors; unblock with 'mariadb-admin flush-hosts'",
);

const cases: ReadonlyArray<readonly [string, Buffer, boolean, unknown]> = [
  ["nothing yet", Buffer.alloc(0), false, null],
  ["half a header", greeting.subarray(0, 3), false, null],
  ["a header alone", greeting.subarray(0, 4), false, null],
  ["half a greeting", greeting.subarray(0, 20), false, null],
  ["a whole greeting, no answer to the login yet", greeting, false, null],
  [
    "a greeting and half an answer",
    Buffer.concat([greeting, okPacket.subarray(0, 5)]),
    false,
    null,
  ],
  ["a greeting and OK", Buffer.concat([greeting, okPacket]), false, { ok: true }],
  ["a greeting and access denied", Buffer.concat([greeting, denied]), false, { ok: true }],
  [
    "a greeting and an auth switch",
    Buffer.concat([greeting, packet(2, Buffer.from("\xfemysql_native_password\0", "latin1"))]),
    false,
    { ok: true },
  ],
  [
    "a greeting and too many connections",
    Buffer.concat([greeting, tooMany]),
    false,
    { ok: false, reason: "mysql: Too many connections" },
  ],
  [
    "a greeting, then the end",
    greeting,
    true,
    { ok: false, reason: "closed the connection after its greeting" },
  ],
  // The exchange names a close mid-packet.
  ["half a greeting, then the end", greeting.subarray(0, 20), true, null],
  [
    "an error packet instead of a greeting",
    blocked,
    false,
    {
      ok: false,
      reason:
        "mysql: Host '10.0.0.9' is blocked because of many connection errors; unblock with 'mariadb-admin flush-hosts'",
    },
  ],
  [
    "an error packet with a SQL state",
    errorPacket(0, 1040, "Too many connections", "08004"),
    false,
    { ok: false, reason: "mysql: Too many connections" },
  ],
  ["half an error packet", blocked.subarray(0, 12), false, null],
  [
    "an error packet without message",
    errorPacket(0, 1040, ""),
    false,
    { ok: false, reason: "mysql: error 1040" },
  ],
  [
    "an HTTP answer",
    Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n"),
    false,
    { ok: false, reason: "not a MySQL greeting" },
  ],
  [
    "a Redis error",
    Buffer.from("-ERR unknown command\r\n"),
    false,
    { ok: false, reason: "not a MySQL greeting" },
  ],
  [
    "protocol 9",
    packet(0, Buffer.from("\x095.0\0", "latin1")),
    false,
    { ok: false, reason: "not a MySQL greeting" },
  ],
  [
    "a greeting with sequence 1",
    Buffer.concat([Buffer.from([greeting[0] ?? 0, 0, 0, 1]), greeting.subarray(4)]),
    false,
    { ok: false, reason: "not a MySQL greeting" },
  ],
  [
    "a length no greeting has",
    Buffer.from([0xff, 0xff, 0x00, 0x00, 0x0a, 0x35]),
    false,
    { ok: false, reason: "not a MySQL greeting" },
  ],
  [
    "protocol 10 with no version string",
    packet(0, Buffer.from("\x0a5.5.5-no-terminator", "latin1")),
    false,
    { ok: false, reason: "not a MySQL greeting" },
  ],
];

test("judgeMysqlAnswer: greeting, the answer to the login attempt, error packets, garbage", (t) => {
  for (const [name, bytes, ended, expected] of cases)
    t.deepEqual(judgeMysqlAnswer(bytes, ended), expected, name);
});

test("judgeMysqlAnswer decides on garbage from the first payload byte, without a whole packet", (t) => {
  // "HTTP" read as a length is 5 MB: the judge must not wait for it.
  t.deepEqual(judgeMysqlAnswer(Buffer.from("HTTP/"), false), {
    ok: false,
    reason: "not a MySQL greeting",
  });
});
