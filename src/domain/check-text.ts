import * as E from "fp-ts/lib/Either.js";

/**
 * Text of the configurable checks, as an operator types it on a command line: escapes for the
 * bytes a shell makes awkward, and how an answer is shown back in a log line.
 */

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  r: "\r",
  n: "\n",
  t: "\t",
  "0": "\0",
  "\\": "\\",
};

const HEX_PAIR = /^[0-9a-fA-F]{2}$/;

/**
 * Turns `\r \n \t \0 \\ \xHH` into the characters they stand for (one char per byte, as the
 * check sends latin1). Any other backslash is an error that names it.
 */
export const unescapeCheckText = (text: string): E.Either<string, string> => {
  let out = "";
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] as string;
    if (char !== "\\") {
      out += char;
      continue;
    }
    const next = text[i + 1];
    if (next === undefined) return E.left(`a lone "\\" ends ${JSON.stringify(text)}`);
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out += simple;
      i += 1;
    } else if (next === "x") {
      const hex = text.slice(i + 2, i + 4);
      if (!HEX_PAIR.test(hex))
        return E.left(
          `bad escape "\\x${hex}" in ${JSON.stringify(text)}: \\x takes two hex digits`,
        );
      out += String.fromCharCode(parseInt(hex, 16));
      i += 3;
    } else {
      return E.left(
        `bad escape "\\${next}" in ${JSON.stringify(text)} (known: \\r \\n \\t \\0 \\\\ \\xHH)`,
      );
    }
  }
  return E.right(out);
};

const SHOWN_ESCAPES: Readonly<Record<string, string>> = {
  "\r": "\\r",
  "\n": "\\n",
  "\t": "\\t",
  "\0": "\\0",
  "\\": "\\\\",
};

/**
 * Shows text (one char per byte) for a log line: printable ASCII as is, the rest escaped the way
 * `unescapeCheckText` reads them (so a shown answer can be pasted into a check), quotes as \x22.
 */
export const escapeCheckText = (text: string): string => {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    const simple = SHOWN_ESCAPES[char];
    if (simple !== undefined) out += simple;
    else if (code >= 0x20 && code < 0x7f && char !== '"') out += char;
    else if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += `\\u{${code.toString(16)}}`;
  }
  return out;
};

/** The first `max` chars of an answer, escaped and quoted; "..." after the quote if there was more. */
export const quoteAnswer = (text: string, max = 60): string =>
  `"${escapeCheckText(text.slice(0, max))}"${text.length > max ? "..." : ""}`;

/**
 * The regular expression an answer must match. An empty one would pass any answer, even none,
 * so it is refused.
 */
export const compileExpect = (text: string): E.Either<string, RegExp> => {
  if (text === "") return E.left("the expected answer is empty (it would match anything)");
  try {
    return E.right(new RegExp(text));
  } catch (error) {
    return E.left(error instanceof Error ? error.message : String(error));
  }
};

/** The path of an HTTP check: absolute, visible ASCII only (no spaces or line breaks to smuggle). */
export const checkHttpPath = (path: string): E.Either<string, string> => {
  if (!path.startsWith("/"))
    return E.left(`the HTTP check path ${JSON.stringify(path)} must start with "/"`);
  if (!/^[\x21-\x7e]+$/.test(path))
    return E.left(
      `the HTTP check path ${JSON.stringify(path)} may hold only visible ASCII (percent-encode the rest)`,
    );
  return E.right(path);
};
