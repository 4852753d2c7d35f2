/**
 * The configuration file (-config): YAML or JSON (YAML reads JSON as it is), keys named as the
 * library's options. Each value is checked with the option's own codec, and a problem names
 * the file, the key's path in it and the value: `tcp-fallback.yaml: backends[1].check: ...`.
 */
import { readFile } from "node:fs/promises";
import * as E from "fp-ts/lib/Either.js";
import type * as t from "io-ts";
import { describe, reportErrors, unknownOption } from "../domain/option-codecs.js";
import { proxyOptionCodecs } from "../domain/proxy-options.js";
import type { OptionKey } from "./flags.js";
import { readFailure } from "./read-failure.js";
import { cliOptionCodecs } from "./run-options.js";

/** A file's options as written (each checked), for the flags to override. */
export type FileOptions = Partial<Record<OptionKey, unknown>>;

/** Options that are code, or that only a command line can ask for. */
const NOT_IN_A_FILE: ReadonlySet<string> = new Set([
  "route",
  "probe",
  "logger",
  "scheduler",
  "version",
  "config",
  "checkConfig",
]);

const FILE_KEYS: ReadonlyArray<string> = [
  ...Object.keys(proxyOptionCodecs),
  ...Object.keys(cliOptionCodecs),
].filter((key) => !NOT_IN_A_FILE.has(key));

const codecOf = (key: string): t.Mixed | undefined =>
  FILE_KEYS.includes(key)
    ? ((proxyOptionCodecs as Record<string, t.Mixed>)[key] ??
      (cliOptionCodecs as Record<string, t.Mixed>)[key])
    : undefined;

const camel = (key: string): string => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Keys as options are named (`connectTimeout`), or as flags and other configs write them
 * (`connect-timeout`, `send-proxy`): the same key, at the top and in backend objects.
 */
const camelKeys = (content: Record<string, unknown>): Record<string, unknown> => {
  const renamed = Object.fromEntries(Object.entries(content).map(([k, v]) => [camel(k), v]));
  const backends = renamed["backends"];
  if (Array.isArray(backends))
    renamed["backends"] = backends.map((b: unknown) =>
      typeof b === "object" && b !== null && !Array.isArray(b)
        ? Object.fromEntries(Object.entries(b).map(([k, v]) => [camel(k), v]))
        : b,
    );
  return renamed;
};

/** Reads and parses the file: its text as YAML (or JSON), or why it cannot be. */
export const readConfigFile = async (path: string): Promise<E.Either<string, unknown>> => {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    return E.left(`${path}: cannot read the configuration file: ${readFailure(error)}`);
  }
  const { parseDocument } = await import("yaml");
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const [first] = document.errors;
  if (first !== undefined) {
    const before = text.slice(0, first.pos[0]).split("\n");
    const where = `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
    return E.left(`${path}: ${where}: ${first.message.split("\n")[0] ?? "not YAML or JSON"}`);
  }
  return E.right(document.toJS());
};

/**
 * Checks every key of a parsed file: unknown keys and refused values, all of them, one line
 * each. The values stay as written: the flags override them, then everything is decoded
 * together as the command line is.
 */
export const checkConfigFile = (
  path: string,
  content: unknown,
): E.Either<ReadonlyArray<string>, FileOptions> => {
  if (content === null || content === undefined) return E.right({});
  if (typeof content !== "object" || Array.isArray(content))
    return E.left([
      `${path}: expected a mapping of option names to values, got ${describe(content)}`,
    ]);
  const problems: string[] = [];
  const options: FileOptions = {};
  for (const [key, value] of Object.entries(camelKeys(content as Record<string, unknown>))) {
    const codec = codecOf(key);
    if (codec === undefined) {
      problems.push(unknownOption(key, FILE_KEYS, path).replace(`${path}.`, `${path}: `));
      continue;
    }
    const result = codec.validate(value, [{ key, type: codec, actual: value }]);
    if (E.isLeft(result)) {
      problems.push(
        ...reportErrors(result.left, "").map((line) => `${path}: ${line.replace(/^\./, "")}`),
      );
      continue;
    }
    options[key as OptionKey] = value;
  }
  return problems.length > 0 ? E.left(problems) : E.right(options);
};
