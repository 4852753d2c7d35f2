import test from "ava";
import {
  encodeRespCommand,
  encodeRespPipeline,
  infoField,
  parseRespReplies,
} from "../../src/domain/resp.js";

const bytes = (text: string): Buffer => Buffer.from(text, "latin1");

test("encodeRespCommand sends an array of bulk strings, lengths in bytes", (t) => {
  t.is(encodeRespCommand(["PING"]).toString(), "*1\r\n$4\r\nPING\r\n");
  t.is(
    encodeRespCommand(["AUTH", "pä ss\r\n"]).toString(),
    "*2\r\n$4\r\nAUTH\r\n$8\r\npä ss\r\n\r\n",
  );
  t.is(encodeRespCommand(["AUTH", ""]).toString(), "*2\r\n$4\r\nAUTH\r\n$0\r\n\r\n");
  t.is(
    encodeRespPipeline([["AUTH", "pw"], ["PING"]]).toString(),
    "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*1\r\n$4\r\nPING\r\n",
  );
});

test("parseRespReplies reads simple strings, errors, integers and bulk strings", (t) => {
  t.deepEqual(parseRespReplies(bytes("+PONG\r\n"), 1), {
    kind: "complete",
    replies: [{ type: "simple", text: "PONG" }],
  });
  t.deepEqual(parseRespReplies(bytes("-ERR no\r\n:42\r\n$3\r\na\r\n\r\n$-1\r\n$0\r\n\r\n"), 5), {
    kind: "complete",
    replies: [
      { type: "error", text: "ERR no" },
      { type: "integer", value: 42 },
      { type: "bulk", text: "a\r\n" },
      { type: "bulk", text: null },
      { type: "bulk", text: "" },
    ],
  });
});

test("parseRespReplies reads no more than asked", (t) => {
  t.deepEqual(parseRespReplies(bytes("+OK\r\n+PONG\r\n"), 1), {
    kind: "complete",
    replies: [{ type: "simple", text: "OK" }],
  });
});

test("every cut of an answer is incomplete, with the replies before it", (t) => {
  const answer = "+OK\r\n$11\r\nrole:master\r\n";
  for (let cut = 0; cut < answer.length; cut += 1) {
    const parsed = parseRespReplies(bytes(answer.slice(0, cut)), 2);
    t.is(parsed.kind, "incomplete", `cut at ${cut}`);
    t.is(parsed.replies.length, cut >= 5 ? 1 : 0, `cut at ${cut}`);
  }
  t.is(parseRespReplies(bytes(answer), 2).kind, "complete");
});

const invalid: ReadonlyArray<readonly [string, string]> = [
  ["HTTP/1.1 200 OK\r\n", 'not a redis reply (starts with "H")'],
  ["\x00", "not a redis reply (starts with 0x00)"],
  ["*1\r\n+OK\r\n", 'not a redis reply (starts with "*")'],
  [":x\r\n", 'bad integer reply "x"'],
  ["$abc\r\n", 'bad bulk string length "abc"'],
  ["$-2\r\n", 'bad bulk string length "-2"'],
  ["$1\r\nabc\r\n", "bulk string longer than its length"],
];

test("parseRespReplies calls garbage invalid, as soon as it can tell", (t) => {
  for (const [text, reason] of invalid)
    t.deepEqual(parseRespReplies(bytes(text), 1), { kind: "invalid", replies: [], reason }, text);
  // Judged on the first byte: no line end needed.
  t.is(parseRespReplies(bytes("H"), 1).kind, "invalid");
  // The replies before the garbage are kept.
  t.deepEqual(parseRespReplies(bytes("+OK\r\nX"), 2), {
    kind: "invalid",
    replies: [{ type: "simple", text: "OK" }],
    reason: 'not a redis reply (starts with "X")',
  });
});

test("infoField finds a key of an INFO section", (t) => {
  const info = "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:6379\r\n";
  t.is(infoField(info, "role"), "slave");
  t.is(infoField(info, "master_port"), "6379");
  t.is(infoField(info, "master"), undefined);
  t.is(infoField("role:master\nx:1", "role"), "master");
  t.is(infoField("", "role"), undefined);
});
