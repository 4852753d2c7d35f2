/**
 * Decodes the raw options the flags filled with the library's own codecs, so the command line
 * refuses what the library refuses and fills the same defaults; the CLI's own options have their
 * codecs here. Loaded only when there is something to decode: help, the version and a bad
 * address alone need no io-ts.
 */
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import { type FailbackMode, IMMEDIATE, parseFailback } from "../domain/failback.js";
import { type AdminSettings, adminProblem } from "../domain/admin-options.js";
import { NonEmptyText, PositiveInteger, describe } from "../domain/option-codecs.js";
import {
  type ProxySettings,
  decodeProxySettings,
  proxyOptionCodecs,
} from "../domain/proxy-options.js";
import { DEFAULT_SYSLOG_SOCKET, FLAGS, type Flag, type OptionKey } from "./flags.js";
import type { Scan } from "./scan.js";
import type { LogFormat } from "../adapters/log/format.js";

/** The proxy's settings plus what only the command line has: logging and profiling. */
export interface RunOptions extends ProxySettings {
  readonly debug: boolean;
  readonly quiet: boolean;
  readonly syslog: boolean;
  readonly syslogSocket: string;
  readonly logfile: string | undefined;
  readonly cpuprofile: string | undefined;
  /** The Go program's thread cap; without -workers, it allows up to one worker per CPU. */
  readonly maxthreads: number | undefined;
  /** Worker processes sharing the listener, as given; absent, -maxthreads decides, else one process. */
  readonly workers: number | "auto" | undefined;
  /** When new clients go back to a recovered primary. */
  readonly failback: FailbackMode;
  /** Where the checks' password is read from (before anything listens). */
  readonly checkPasswordFile: string | undefined;
  /** Where the admin token is read from (before anything listens). */
  readonly adminTokenFile?: string | undefined;
  /** The configuration file the settings were read from, if any. */
  readonly config?: string | undefined;
  /** How stderr and -logfile lines look. */
  readonly logFormat: LogFormat;
}

/**
 * The listen and backend addresses as written, already checked; from a config file, the
 * backends as written there (an address, or an object with one), checked by the decoder.
 */
export interface AddressTexts {
  readonly listen: unknown;
  readonly backends: ReadonlyArray<unknown>;
}

/** "immediate", "delay:DURATION", "ramp:DURATION" or "manual". */
const Failback = new t.Type<FailbackMode, string, unknown>(
  "Failback",
  (u): u is FailbackMode => typeof u === "object" && u !== null && "kind" in u,
  (u, c) =>
    typeof u !== "string"
      ? t.failure(u, c, `expected a failback mode, got ${describe(u)}`)
      : pipe(
          parseFailback(u),
          E.fold(
            (message) => t.failure(u, c, message),
            (mode) => t.success(mode),
          ),
        ),
  (mode) =>
    mode.kind === "delay"
      ? `delay:${mode.holdMs}ms`
      : mode.kind === "ramp"
        ? `ramp:${mode.durationMs}ms`
        : mode.kind,
);

/** Codecs for what only the command line has; every other flag fills a library option. */
export const cliOptionCodecs = {
  debug: t.boolean,
  quiet: t.boolean,
  syslog: t.boolean,
  syslogSocket: NonEmptyText,
  logfile: t.string,
  cpuprofile: t.string,
  checkPasswordFile: t.string,
  adminTokenFile: t.string,
  workers: t.union([PositiveInteger, t.literal("auto")]),
  maxthreads: PositiveInteger,
  failback: Failback,
  logFormat: t.union([t.literal("text"), t.literal("json")]),
  // Read before decoding: -version runs nothing.
  version: t.boolean,
  config: t.string,
  checkConfig: t.boolean,
};

type CliKey = keyof typeof cliOptionCodecs;

type CliValues = Partial<{ -readonly [K in CliKey]: t.TypeOf<(typeof cliOptionCodecs)[K]> }>;

const isCliKey = (key: string): key is CliKey => Object.hasOwn(cliOptionCodecs, key);

const codecOf = (key: OptionKey): t.Mixed =>
  isCliKey(key) ? cliOptionCodecs[key] : proxyOptionCodecs[key];

const q = (s: string): string => JSON.stringify(s);

const codecMessage = (errors: t.Errors): string =>
  errors.map((e) => e.message).find((m) => m !== undefined) ?? "invalid value";

/**
 * Each given flag's value through its option's codec, in the table's order (Go checks ranges
 * after scanning, in the program's order): the first refused one is named in the flag's words.
 */
const decodeFlags = (
  scan: Scan<OptionKey>,
): E.Either<string, Partial<Record<OptionKey, unknown>>> => {
  const decoded: Partial<Record<OptionKey, unknown>> = {};
  for (const flag of FLAGS) {
    if (!Object.hasOwn(scan.options, flag.into)) continue;
    const value = scan.options[flag.into];
    // An option set to undefined (an empty path) is not set.
    if (value === undefined) continue;
    const result = codecOf(flag.into).decode(value);
    if (E.isLeft(result)) return E.left(refused(flag, scan, value, result.left));
    decoded[flag.into] = result.right;
  }
  return E.right(decoded);
};

const refused = (flag: Flag, scan: Scan<OptionKey>, value: unknown, errors: t.Errors): string => {
  const given = scan.texts.get(flag.name) ?? String(value);
  return `invalid value ${q(given)} for flag -${flag.name}: ${flag.invalid ?? codecMessage(errors)}`;
};

/** The library's problems in the command line's words: `options.checkUser` is `-check-user`. */
const inFlagWords = (problems: string): string =>
  FLAGS.reduce(
    (text, flag) => text.replace(new RegExp(`options\\.${flag.into}\\b`, "g"), `-${flag.name}`),
    problems,
  );

/** The run options: flag values first, then the addresses, then the library's settings. */
export const decodeRunOptions = (
  scan: Scan<OptionKey>,
  addresses: E.Either<string, AddressTexts>,
): E.Either<string, RunOptions> =>
  pipe(
    E.Do,
    E.apS("flags", decodeFlags(scan)),
    E.apS("addresses", addresses),
    // The admin address is decoded with the flags; its token comes from a file read later.
    E.chainFirst(({ flags }) => {
      const admin = flags.admin as AdminSettings | undefined;
      const problem =
        admin === undefined
          ? null
          : adminProblem(admin, (flags as CliValues).adminTokenFile !== undefined, {
              admin: "-admin",
              token: "-admin-token-file",
            });
      return problem === null ? E.right(null) : E.left(problem);
    }),
    E.bind("settings", ({ addresses: given }) =>
      pipe(
        decodeProxySettings({
          ...Object.fromEntries(
            Object.entries(scan.options).filter(([key]) => !isCliKey(key) && key !== "admin"),
          ),
          listen: given.listen,
          backends: given.backends,
        }),
        E.mapLeft(inFlagWords),
      ),
    ),
    E.map(({ flags, settings }) => {
      const cli = flags as CliValues;
      return {
        ...settings,
        ...(flags.admin === undefined ? {} : { admin: flags.admin as AdminSettings }),
        debug: cli.debug ?? false,
        quiet: cli.quiet ?? false,
        syslog: cli.syslog ?? false,
        syslogSocket: cli.syslogSocket ?? DEFAULT_SYSLOG_SOCKET,
        logfile: cli.logfile,
        cpuprofile: cli.cpuprofile,
        maxthreads: cli.maxthreads,
        workers: cli.workers,
        failback: cli.failback ?? IMMEDIATE,
        checkPasswordFile: cli.checkPasswordFile,
        ...(cli.adminTokenFile === undefined ? {} : { adminTokenFile: cli.adminTokenFile }),
        ...(cli.config === undefined ? {} : { config: cli.config }),
        logFormat: cli.logFormat ?? "text",
      };
    }),
  );
