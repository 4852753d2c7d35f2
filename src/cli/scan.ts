/**
 * A flag scanner with the rules of Go's `flag` package, so existing service definitions keep
 * working unchanged: -flag, --flag, -flag=value and -flag value; booleans never take the next
 * argument; flags end at the first argument that is not one, a lone "-" or "--". The first
 * error in argument order wins, and -h/-help asks for help unless an earlier flag failed.
 */
import * as E from "fp-ts/lib/Either.js";

/** What the scanner needs of a flag. */
export interface ScannedFlag<K extends string> {
  readonly name: string;
  /** The key of the raw options object this flag fills. */
  readonly into: K;
  /**
   * Go's flag.Value.Set: checks the text's syntax and gives the raw option value. Absent for
   * booleans, which take strconv.ParseBool's spellings.
   */
  readonly read?: (text: string) => E.Either<string, unknown>;
}

export interface Scan<K extends string> {
  /** What the given flags filled; a later flag overrides an earlier one, as in Go. */
  readonly options: Partial<Record<K, unknown>>;
  /** The text each value flag was last given, by flag name, for error messages. */
  readonly texts: ReadonlyMap<string, string>;
  readonly positional: ReadonlyArray<string>;
}

/** strconv.ParseBool's accepted spellings. */
const BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ...["1", "t", "T", "TRUE", "true", "True"].map((s) => [s, true] as const),
  ...["0", "f", "F", "FALSE", "false", "False"].map((s) => [s, false] as const),
]);

const q = (s: string): string => JSON.stringify(s);

/** One pass over the flags in argument order: the first error or help request wins. */
export const scanFlags = <K extends string>(
  flags: ReadonlyArray<ScannedFlag<K>>,
  argv: ReadonlyArray<string>,
): E.Either<string, Scan<K> | "help"> => {
  const byName = new Map(flags.map((f) => [f.name, f]));
  const options: Partial<Record<K, unknown>> = {};
  const texts = new Map<string, string>();
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] ?? "";
    // A lone "-" and anything not starting with "-" end the flags.
    if (arg.length < 2 || !arg.startsWith("-")) break;
    if (arg === "--") {
      i++;
      break;
    }
    const body = arg.slice(arg.startsWith("--") ? 2 : 1);
    if (body === "" || body.startsWith("-") || body.startsWith("=")) {
      return E.left(`bad flag syntax: ${arg}`);
    }
    i++;
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);

    const flag = byName.get(name);
    if (flag === undefined) {
      if (name === "h" || name === "help") return E.right("help");
      return E.left(`flag provided but not defined: -${name}`);
    }
    if (flag.read === undefined) {
      // Booleans never take the next argument, so "-debug false" leaves "false" positional.
      const value = inline === undefined ? true : BOOLEANS.get(inline);
      if (value === undefined) {
        return E.left(
          `invalid boolean value ${q(inline ?? "")} for -${name}: must be true or false`,
        );
      }
      options[flag.into] = value;
      continue;
    }
    let text = inline;
    if (text === undefined) {
      text = argv[i];
      if (text === undefined) return E.left(`flag needs an argument: -${name}`);
      i++;
    }
    const read = flag.read(text);
    if (E.isLeft(read)) return E.left(`invalid value ${q(text)} for flag -${name}: ${read.left}`);
    options[flag.into] = read.right;
    texts.set(name, text);
  }
  return E.right({ options, texts, positional: argv.slice(i) });
};
