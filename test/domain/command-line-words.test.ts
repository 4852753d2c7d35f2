import test from "ava";
import * as E from "fp-ts/lib/Either.js";
import { CommandWords, commandLineWords } from "../../src/domain/command-line-words.js";

const split: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ["/usr/local/bin/page", ["/usr/local/bin/page"]],
  ["  notify   --to  ops  ", ["notify", "--to", "ops"]],
  ["a\tb\nc", ["a", "b", "c"]],
  ["/bin/sh -c 'echo $X > /tmp/f'", ["/bin/sh", "-c", "echo $X > /tmp/f"]],
  ['say "hello world"', ["say", "hello world"]],
  ['say "a \\"quoted\\" \\\\ word"', ["say", 'a "quoted" \\ word']],
  ['say "keeps \\n and \\$ as written"', ["say", "keeps \\n and \\$ as written"]],
  ["say 'single \\ keeps backslash'", ["say", "single \\ keeps backslash"]],
  ["say it\\'s", ["say", "it's"]],
  ["say a\\ b", ["say", "a b"]],
  ["say pre'mid'\"post\"", ["say", "premidpost"]],
  ["say '' x", ["say", "", "x"]],
  ['say ""', ["say", ""]],
  ["run *.sh ~ $HOME", ["run", "*.sh", "~", "$HOME"]],
  ["run a;b|c", ["run", "a;b|c"]],
];

for (const [line, words] of split)
  test(`splits ${JSON.stringify(line)}`, (t) => {
    t.deepEqual(commandLineWords(line), E.right(words));
  });

const refused: ReadonlyArray<readonly [string, string]> = [
  ["", "no command"],
  ["   ", "no command"],
  ["'' arg", "no command"],
  ["say 'open", "unterminated single quote"],
  ['say "open', "unterminated double quote"],
  ['say "ends \\"', "unterminated double quote"],
  ["say end\\", "a backslash at the end escapes nothing"],
];

for (const [line, message] of refused)
  test(`refuses ${JSON.stringify(line)}`, (t) => {
    t.deepEqual(commandLineWords(line), E.left(message));
  });

test("the codec takes a line or the words themselves", (t) => {
  t.deepEqual(CommandWords.decode("a 'b c'"), E.right(["a", "b c"]));
  t.deepEqual(CommandWords.decode(["a", "b c"]), E.right(["a", "b c"]));
  for (const bad of ["", [], [""], [1], 3, null]) t.true(E.isLeft(CommandWords.decode(bad)));
});
