/**
 * The command line of the original Go program:
 *
 *   tcp-fallback [flags] <local-address:port> <remote-address:port>...
 *
 * Flags are scanned with Go's rules (scan.ts) from the flag table (flags.ts); their values are
 * then decoded with the library's codecs (run-options.ts), loaded only when needed.
 */
import { readFile } from "node:fs/promises";
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { parseAddress } from "../domain/address.js";
import { FLAGS } from "./flags.js";
import { readFailure } from "./read-failure.js";
import type { FileOptions } from "./config-file.js";
import type { AddressTexts, RunOptions } from "./run-options.js";
import { scanFlags } from "./scan.js";

export interface UsageError {
  readonly message: string;
}

export type CommandLine =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | ({ readonly kind: "run" | "check-config" } & RunOptions & { readonly file?: unknown });

const NEED_ADDRESSES = "need <listen-address:port> <backend:port>...";

const checkedAddress = (text: string, role: "listen" | "backend"): E.Either<string, string> =>
  pipe(
    parseAddress(text, role),
    E.map(() => text),
    // Go stops at the first address, so a flag written after it lands here.
    E.mapLeft((why) =>
      text.startsWith("-") ? `${why} (flags must come before the addresses)` : why,
    ),
  );

/** The positional arguments, checked with the parser the address codecs use. */
const addressTexts = (positional: ReadonlyArray<string>): E.Either<string, AddressTexts> => {
  const [listen, ...backends] = positional;
  if (listen === undefined) return E.left(`no listen address given: ${NEED_ADDRESSES}`);
  if (backends.length === 0) return E.left(`no backend given: ${NEED_ADDRESSES}`);
  return pipe(
    E.Do,
    E.apS("listen", checkedAddress(listen, "listen")),
    E.apS("backends", E.traverseArray((b: string) => checkedAddress(b, "backend"))(backends)),
  );
};

const usageError = (message: string): E.Either<UsageError, never> => E.left({ message });

/**
 * Parses the arguments after the program name. Flags are checked in order and the first
 * problem is reported; "-h"/"-help" among the flags asks for help and "-version" for the
 * version, both before the addresses are looked at.
 */
export const parseCommandLine = async (
  argv: ReadonlyArray<string>,
): Promise<E.Either<UsageError, CommandLine>> => {
  const scanned = scanFlags(FLAGS, argv);
  if (E.isLeft(scanned)) return usageError(scanned.left);
  const scan = scanned.right;
  if (scan === "help") return E.right({ kind: "help" });
  if (scan.options.version === true) return E.right({ kind: "version" });
  const configPath = scan.options.config as string | undefined;
  if (scan.options.checkConfig === true && configPath === undefined)
    return usageError("-check-config needs -config=FILE");
  let file: unknown;
  let merged = scan;
  let addresses = addressTexts(scan.positional);
  if (configPath !== undefined) {
    const loaded = await loadConfig(configPath);
    if (E.isLeft(loaded)) return usageError(loaded.left);
    file = loaded.right.content;
    const { listen, backends, ...rest } = loaded.right.options;
    // Flags override the file; addresses on the command line replace the file's.
    merged = { ...scan, options: { ...rest, ...scan.options } };
    if (scan.positional.length === 0) {
      if (listen === undefined)
        return usageError(
          `no listen address: give it on the command line or as "listen" in ${configPath}`,
        );
      if (!Array.isArray(backends) || backends.length === 0)
        return usageError(
          `no backend: give them on the command line or as "backends" in ${configPath}`,
        );
      addresses = E.right({ listen, backends });
    }
  }
  // Flag values are checked before the addresses; with no flag given none can be refused, so a
  // bad address is told without loading the decoder.
  if (E.isLeft(addresses) && Object.keys(scan.options).length === 0) {
    return usageError(addresses.left);
  }
  const { decodeRunOptions } = await import("./run-options.js");
  const decoded = decodeRunOptions(merged, addresses);
  if (E.isLeft(decoded)) return usageError(decoded.left);
  let options = decoded.right;
  if (options.checkPasswordFile !== undefined) {
    const password = await readSecretFile(options.checkPasswordFile, "check-password-file");
    if (E.isLeft(password)) return usageError(password.left);
    options = {
      ...options,
      checkCredentials: { ...options.checkCredentials, password: password.right },
    };
  }
  if (options.adminTokenFile !== undefined && options.admin !== undefined) {
    const token = await readSecretFile(options.adminTokenFile, "admin-token-file");
    if (E.isLeft(token)) return usageError(token.left);
    options = { ...options, admin: { ...options.admin, token: token.right } };
  }
  const kind = scan.options.checkConfig === true ? "check-config" : "run";
  return E.right({ kind, ...options, ...(file === undefined ? {} : { file }) });
};

/**
 * The file's options, checked. A worker process reads what its primary last loaded (set in
 * its environment at fork) rather than the file, which may have changed since, or broken.
 */
const loadConfig = async (
  path: string,
): Promise<E.Either<string, { readonly content: unknown; readonly options: FileOptions }>> => {
  const { readConfigFile, checkConfigFile } = await import("./config-file.js");
  const loaded = process.env[WORKER_CONFIG_VARIABLE];
  const content =
    process.env["NODE_UNIQUE_ID"] !== undefined && loaded !== undefined
      ? E.right(JSON.parse(loaded) as unknown)
      : await readConfigFile(path);
  if (E.isLeft(content)) return content;
  return pipe(
    checkConfigFile(path, content.right),
    E.bimap(
      (problems) => problems.join("\n"),
      (options) => ({ content: content.right, options }),
    ),
  );
};

/** Set by a primary to the file content it runs on, for the workers it forks after. */
export const WORKER_CONFIG_VARIABLE = "TCP_FALLBACK_WORKER_CONFIG";

/** A secret file's text less one trailing newline, or a one-line reason naming the flag. */
const readSecretFile = async (path: string, flag: string): Promise<E.Either<string, string>> => {
  const refused = (why: string): E.Either<string, never> =>
    E.left(`invalid value ${JSON.stringify(path)} for flag -${flag}: ${why}`);
  try {
    const text = (await readFile(path, "utf8")).replace(/\r?\n$/, "");
    return text === "" ? refused("the file is empty") : E.right(text);
  } catch (error) {
    return refused(readFailure(error));
  }
};
