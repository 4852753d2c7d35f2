/**
 * `node --import <this file>`: the process runs as if the optional package unix-dgram were not
 * installed (its import fails as Node's own resolver fails for a missing package). With
 * UNIX_DGRAM=broken it is there but fails to load, as after a Node upgrade without a rebuild.
 */
import { register } from "node:module";
import { isMainThread } from "node:worker_threads";

type NextResolve = (specifier: string, context: ResolveContext) => Promise<unknown>;
interface ResolveContext {
  readonly parentURL?: string;
}

// Registered from the main thread; Node loads this same file again as the hooks module.
if (isMainThread) register(import.meta.url);

// Exports what the syslog sink imports, so it is evaluation, not linking, that fails.
const BROKEN_MODULE =
  "export const createSocket = null; export default null; " +
  "throw new Error('The module unix_dgram.node was compiled against a different Node.js " +
  "version.\\nRecompile it.');";

export const resolve = (
  specifier: string,
  context: ResolveContext,
  nextResolve: NextResolve,
): Promise<unknown> => {
  if (specifier !== "unix-dgram") return nextResolve(specifier, context);
  if (process.env["UNIX_DGRAM"] === "broken")
    return Promise.resolve({
      url: `data:text/javascript,${encodeURIComponent(BROKEN_MODULE)}`,
      shortCircuit: true,
    });
  const error = new Error(
    `Cannot find package '${specifier}' imported from ${context.parentURL ?? "?"}`,
  );
  return Promise.reject(Object.assign(error, { code: "ERR_MODULE_NOT_FOUND" }));
};
