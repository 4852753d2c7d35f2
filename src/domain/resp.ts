/**
 * The few pieces of the Redis protocol (RESP2) a health check needs: commands out, and the
 * reply kinds a check can get back (simple strings, errors, integers, bulk strings) in.
 */

export type RespReply =
  | { readonly type: "simple"; readonly text: string }
  | { readonly type: "error"; readonly text: string }
  | { readonly type: "integer"; readonly value: number }
  /** `text` null: the null bulk string ($-1). */
  | { readonly type: "bulk"; readonly text: string | null };

/** What the bytes so far hold: replies in order, and whether more are to come or they are not RESP. */
export type RespReplies =
  | { readonly kind: "complete"; readonly replies: ReadonlyArray<RespReply> }
  | { readonly kind: "incomplete"; readonly replies: ReadonlyArray<RespReply> }
  | {
      readonly kind: "invalid";
      readonly replies: ReadonlyArray<RespReply>;
      readonly reason: string;
    };

type OneReply =
  | { readonly kind: "reply"; readonly reply: RespReply; readonly next: number }
  | { readonly kind: "incomplete" }
  | { readonly kind: "invalid"; readonly reason: string };

const CRLF = "\r\n";
const INTEGER = /^-?\d{1,15}$/;
const REPLY_TYPES = "+-:$";

/** A RESP array of bulk strings: how clients send commands (any bytes are safe in an argument). */
export const encodeRespCommand = (args: ReadonlyArray<string>): Buffer =>
  Buffer.concat([
    Buffer.from(`*${args.length}${CRLF}`),
    ...args.flatMap((arg) => {
      const bytes = Buffer.from(arg, "utf8");
      return [Buffer.from(`$${bytes.length}${CRLF}`), bytes, Buffer.from(CRLF)];
    }),
  ]);

/** Several commands in one buffer: a pipeline, sent in one write. */
export const encodeRespPipeline = (commands: ReadonlyArray<ReadonlyArray<string>>): Buffer =>
  Buffer.concat(commands.map(encodeRespCommand));

const shown = (byte: number): string =>
  byte >= 0x20 && byte < 0x7f
    ? JSON.stringify(String.fromCharCode(byte))
    : `0x${byte.toString(16).padStart(2, "0")}`;

const parseOne = (bytes: Buffer, offset: number): OneReply => {
  if (offset >= bytes.length) return { kind: "incomplete" };
  const type = bytes[offset] as number;
  // Garbage is judged by its first byte, without waiting for a line end that may never come.
  if (!REPLY_TYPES.includes(String.fromCharCode(type)))
    return { kind: "invalid", reason: `not a redis reply (starts with ${shown(type)})` };
  const lineEnd = bytes.indexOf(CRLF, offset + 1);
  if (lineEnd < 0) return { kind: "incomplete" };
  const line = bytes.toString("utf8", offset + 1, lineEnd);
  const afterLine = lineEnd + CRLF.length;
  switch (String.fromCharCode(type)) {
    case "+":
      return { kind: "reply", reply: { type: "simple", text: line }, next: afterLine };
    case "-":
      return { kind: "reply", reply: { type: "error", text: line }, next: afterLine };
    case ":":
      return INTEGER.test(line)
        ? { kind: "reply", reply: { type: "integer", value: Number(line) }, next: afterLine }
        : { kind: "invalid", reason: `bad integer reply ${JSON.stringify(line)}` };
    default: {
      // "$": a bulk string, its length on the line.
      if (!INTEGER.test(line) || Number(line) < -1)
        return { kind: "invalid", reason: `bad bulk string length ${JSON.stringify(line)}` };
      const length = Number(line);
      if (length === -1)
        return { kind: "reply", reply: { type: "bulk", text: null }, next: afterLine };
      const end = afterLine + length;
      if (bytes.length < end + CRLF.length) return { kind: "incomplete" };
      if (bytes.toString("latin1", end, end + CRLF.length) !== CRLF)
        return { kind: "invalid", reason: "bulk string longer than its length" };
      const text = bytes.toString("utf8", afterLine, end);
      return { kind: "reply", reply: { type: "bulk", text }, next: end + CRLF.length };
    }
  }
};

/**
 * Reads up to `count` replies from the start of `bytes` (all the bytes read so far). A reply
 * split over several reads is incomplete until its last byte.
 */
export const parseRespReplies = (bytes: Buffer, count: number): RespReplies => {
  const replies: RespReply[] = [];
  let offset = 0;
  while (replies.length < count) {
    const one = parseOne(bytes, offset);
    if (one.kind === "incomplete") return { kind: "incomplete", replies };
    if (one.kind === "invalid") return { kind: "invalid", replies, reason: one.reason };
    replies.push(one.reply);
    offset = one.next;
  }
  return { kind: "complete", replies };
};

/** The value of `key` in an INFO section ("role:master" lines), if there. */
export const infoField = (info: string, key: string): string | undefined => {
  for (const line of info.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon) === key) return line.slice(colon + 1);
  }
  return undefined;
};
