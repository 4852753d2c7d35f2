/**
 * Module hooks that append every URL a program resolves (its own files, packages, node:
 * built-ins) to a file, one per line after the pid of the process that loaded it (a primary and
 * its workers share the file): what a run loaded. Registered with `--import` by
 * `moduleLog()` in ./cli.ts; the file's path comes in through `register`'s data.
 */
import { appendFileSync } from "node:fs";

interface ResolveResult {
  readonly url: string;
}
type NextResolve = (specifier: string, context: unknown) => Promise<ResolveResult>;

let logPath = "";

export const initialize = (path: string): void => {
  logPath = path;
};

export const resolve = async (
  specifier: string,
  context: unknown,
  nextResolve: NextResolve,
): Promise<ResolveResult> => {
  const result = await nextResolve(specifier, context);
  appendFileSync(logPath, `${process.pid} ${result.url}\n`);
  return result;
};
