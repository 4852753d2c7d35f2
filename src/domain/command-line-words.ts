/**
 * A command as written on one line, split into argv the way a shell would split it, but with
 * nothing else a shell does: no globbing, no variables, no redirections. Whoever wants a shell
 * writes one (`/bin/sh -c '...'`).
 */
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { describe } from "./option-codecs.js";

const SPACE = /\s/;

/**
 * Words separated by unquoted whitespace. 'single quotes' keep everything as is; "double quotes"
 * keep everything but `\"` and `\\`; a backslash outside quotes keeps the next character.
 * `''` is an empty word. Fails on an unterminated quote, a trailing backslash or no words.
 */
export const commandLineWords = (line: string): E.Either<string, ReadonlyArray<string>> => {
  const words: string[] = [];
  let word = "";
  // A word has started even if it is still empty (after `''`).
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (SPACE.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return E.left("unterminated single quote");
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line.charAt(j) !== '"'; j++) {
        const d = line.charAt(j);
        const next = line.charAt(j + 1);
        if (d === "\\" && (next === '"' || next === "\\")) {
          word += next;
          j++;
        } else word += d;
      }
      if (j >= line.length) return E.left("unterminated double quote");
      inWord = true;
      i = j;
    } else if (c === "\\") {
      if (i + 1 >= line.length) return E.left("a backslash at the end escapes nothing");
      word += line.charAt(i + 1);
      inWord = true;
      i++;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words.length === 0 || words[0] === "" ? E.left("no command") : E.right(words);
};

/**
 * A hook command: one line split into words (commandLineWords), or the words themselves
 * (a non-empty array whose first word, the program, is not empty).
 */
const isCommandWords = (u: unknown): u is ReadonlyArray<string> =>
  Array.isArray(u) && u.length > 0 && u.every((w) => typeof w === "string") && u[0] !== "";

export const CommandWords: t.Type<
  ReadonlyArray<string>,
  ReadonlyArray<string>,
  unknown
> = new t.Type<ReadonlyArray<string>, ReadonlyArray<string>, unknown>(
  "CommandWords",
  isCommandWords,
  (u, c) => {
    if (typeof u === "string") {
      const words = commandLineWords(u);
      return E.isLeft(words)
        ? t.failure(u, c, `${words.left} in ${describe(u)}`)
        : t.success(words.right);
    }
    return isCommandWords(u)
      ? t.success(u)
      : t.failure(u, c, `expected a command (a string or an array of words), got ${describe(u)}`);
  },
  (words) => words,
);
