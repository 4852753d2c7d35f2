import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import {
  checkHttpPath,
  compileExpect,
  escapeCheckText,
  quoteAnswer,
  unescapeCheckText,
} from "../../src/domain/check-text.js";

const unescaped: ReadonlyArray<readonly [string, string]> = [
  ["", ""],
  ["PING", "PING"],
  ["PING\\r\\n", "PING\r\n"],
  ["a\\tb", "a\tb"],
  ["\\0", "\0"],
  ["back\\\\slash", "back\\slash"],
  ["\\\\r", "\\r"],
  ["\\x00\\xff\\x41\\x7E", "\x00\xffAA".slice(0, 3) + "~"],
  ["\\x0d\\x0A", "\r\n"],
  ["no escapes: /^+OK$/", "no escapes: /^+OK$/"],
  ["é", "é"],
];

test("unescapeCheckText reads \\r \\n \\t \\0 \\\\ \\xHH", (t) => {
  for (const [text, expected] of unescaped)
    t.deepEqual(unescapeCheckText(text), E.right(expected), text);
});

const badEscapes: ReadonlyArray<readonly [string, RegExp]> = [
  ["PING\\", /^a lone "\\" ends "PING\\\\"$/],
  ["\\q", /^bad escape "\\q" in "\\\\q" \(known: /],
  ["a\\ab", /^bad escape "\\a" in /],
  ["\\x", /^bad escape "\\x" in "\\\\x": \\x takes two hex digits$/],
  ["\\x4", /^bad escape "\\x4" in /],
  ["\\xZZ", /^bad escape "\\xZZ" in /],
  ["\\u0041", /^bad escape "\\u" in /],
];

test("unescapeCheckText names a bad escape", (t) => {
  for (const [text, message] of badEscapes) {
    const result = unescapeCheckText(text);
    t.true(E.isLeft(result), text);
    if (E.isLeft(result)) t.regex(result.left, message, text);
  }
});

const shown: ReadonlyArray<readonly [string, string]> = [
  ["+PONG\r\n", "+PONG\\r\\n"],
  ["a\tb\0c\\", "a\\tb\\0c\\\\"],
  ['say "hi"', "say \\x22hi\\x22"],
  ["\x01\x7f\xff", "\\x01\\x7f\\xff"],
  ["€", "\\u{20ac}"],
];

test("escapeCheckText shows control bytes, quotes and backslashes escaped", (t) => {
  for (const [text, expected] of shown) t.is(escapeCheckText(text), expected, text);
});

test("escapeCheckText is undone by unescapeCheckText for every byte", (t) => {
  const everyByte = Array.from({ length: 256 }, (_, code) => String.fromCharCode(code)).join("");
  t.deepEqual(unescapeCheckText(escapeCheckText(everyByte)), E.right(everyByte));
});

test("quoteAnswer quotes the first 60 chars, and says when there was more", (t) => {
  t.is(quoteAnswer("-ERR no\r\n"), '"-ERR no\\r\\n"');
  t.is(quoteAnswer("x".repeat(60)), `"${"x".repeat(60)}"`);
  t.is(quoteAnswer("x".repeat(61)), `"${"x".repeat(60)}"...`);
  t.is(quoteAnswer("abcdef", 3), '"abc"...');
  t.is(quoteAnswer(""), '""');
});

test("compileExpect compiles a regex, or says what is wrong with it", (t) => {
  const ok = compileExpect("^\\+PONG\\r\\n");
  t.true(E.isRight(ok) && ok.right.test("+PONG\r\n"));
  t.true(E.isRight(ok) && !ok.right.test("-ERR\r\n"));
  const bad = compileExpect("^(+OK");
  t.true(E.isLeft(bad));
  if (E.isLeft(bad)) t.regex(bad.left, /^Invalid regular expression: \/\^\(\+OK\/: /);
  t.deepEqual(compileExpect(""), E.left("the expected answer is empty (it would match anything)"));
});

test("checkHttpPath takes an absolute path of visible ASCII", (t) => {
  t.deepEqual(checkHttpPath("/health"), E.right("/health"));
  t.deepEqual(checkHttpPath("/a%20b?x=1&y=/z"), E.right("/a%20b?x=1&y=/z"));
  for (const bad of ["", "health", "/a b", "/a\r\nX: y", "/é", "http://host/"])
    t.true(E.isLeft(checkHttpPath(bad)), JSON.stringify(bad));
});
