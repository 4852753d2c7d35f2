/**
 * The package as a user gets it: packed with `npm pack` and installed into a fresh project that
 * has its own rxjs (the oldest supported), without optional packages. Needs npm and the registry:
 * tarballs come from npm's cache where it has them (CI runs `npm ci` first).
 */
import test from "ava";
import { type SpawnOptions, spawn } from "node:child_process";
import { version } from "../../src/version.js";
import { roundTrip, startBackend } from "../helpers/net.js";
import { once } from "node:events";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
const STEP_TIMEOUT_MS = 30_000;
/**
 * The program's rxjs: the oldest the package supports (its peer range, ^7.8.0). 1.0 depended on
 * ^7.8.2 and so got a second copy of its own beside it.
 */
const PROGRAM_RXJS = "7.8.0";

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end, killed after STEP_TIMEOUT_MS. */
const run = async (
  command: string,
  args: ReadonlyArray<string>,
  options: SpawnOptions,
  timeout = STEP_TIMEOUT_MS,
): Promise<Ran> => {
  const child = spawn(command, args, {
    ...options,
    stdio: ["ignore", "pipe", "pipe"],
    timeout,
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
};

// Under `npm test`, npm's own settings for this repository would leak into the nested npm.
const npmEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) =>
      !/^npm_(package_|lifecycle_|command$|config_local_prefix$|config_call$)/.test(key) &&
      key !== "INIT_CWD",
  ),
);

const npm = async (
  args: ReadonlyArray<string>,
  cwd: string,
  timeout = STEP_TIMEOUT_MS,
): Promise<Ran> => {
  const ran = await run("npm", args, { cwd, env: npmEnv }, timeout);
  if (ran.code !== 0) throw new Error(`npm ${args.join(" ")} failed (${ran.code}):\n${ran.stderr}`);
  return ran;
};

/**
 * The program's own TestScheduler drives the library's health loop (which takes no scheduler, so
 * it runs on rxjs's default one) and a route policy. A client fails on the primary at 5 ms; its
 * probe at 10 ms is refused, the one at 20 ms answers (1 ms later).
 */
const PROGRAM = `
import { Observable, map } from "rxjs";
import { TestScheduler } from "rxjs/testing";
import { firstHealthy, healthLoop } from "tcp-fallback";

const [A, B] = [7001, 7002].map((port, index) => ({
  index,
  address: { host: "127.0.0.1", port },
  label: "127.0.0.1:" + port,
}));
const report = { sameObservableClass: false, mismatches: [] };
const scheduler = new TestScheduler((actual, expected) => {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) report.mismatches.push({ actual, expected });
});
scheduler.run(({ cold, hot, expectObservable }) => {
  const refused = { ok: false, reason: "connection refused" };
  const probe = (backend) =>
    cold("-r|", { r: backend === A && scheduler.now() === 10 ? refused : { ok: true } });
  const connectionEvents$ = hot("5ms f", {
    f: { type: "connect-failed", backend: 0, reason: "connection refused", at: 5 },
  });
  const steps$ = healthLoop({ backends: [A, B], connectionEvents$, probe, probeDelayMs: 10 });
  report.sameObservableClass = steps$ instanceof Observable;
  const route$ = firstHealthy(steps$.pipe(map((step) => step.state))).pipe(
    map((route) => route.map((backend) => backend.label).join(" ")),
  );
  expectObservable(route$, "30ms !").toBe("a 4ms b 15ms a", {
    a: "127.0.0.1:7001 127.0.0.1:7002",
    b: "127.0.0.1:7002",
  });
});
console.log(JSON.stringify(report));
// With a second rxjs inside the library, its real timers would keep the process alive.
process.exit(0);
`;

interface Packed {
  /** The tarball `npm pack` made. */
  readonly tarball: string;
  /** Paths inside the tarball, e.g. "dist/src/index.js". */
  readonly files: ReadonlyArray<string>;
  /** The fresh project, installed with --omit=optional. */
  readonly app: string;
  /** The installed package: the tarball's contents. */
  readonly installed: string;
}

let work = "";
let packed: Packed | undefined;
let setUpFailure: unknown;

test.before(async () => {
  try {
    work = await mkdtemp(join(tmpdir(), "tcp-fallback-package-"));
    // `npm test` has just built dist/; packing must not build again.
    const pack = await npm(
      ["pack", "--ignore-scripts", "--json", "--pack-destination", work],
      repoRoot,
    );
    const [info] = JSON.parse(pack.stdout) as Array<{
      filename: string;
      files: Array<{ path: string }>;
    }>;
    if (info === undefined) throw new Error(`npm pack said nothing:\n${pack.stdout}`);
    const app = join(work, "app");
    await mkdir(app);
    await writeFile(
      join(app, "package.json"),
      JSON.stringify({
        name: "program-using-tcp-fallback",
        private: true,
        type: "module",
        dependencies: {
          rxjs: PROGRAM_RXJS,
          "tcp-fallback": `file:${join(work, info.filename)}`,
        },
      }),
    );
    await npm(["install", "--omit=optional", "--prefer-offline", "--no-audit", "--no-fund"], app);
    packed = {
      tarball: join(work, info.filename),
      files: info.files.map((file) => file.path),
      app,
      installed: join(app, "node_modules", "tcp-fallback"),
    };
  } catch (error) {
    setUpFailure = error;
  }
});

test.after.always(async () => {
  if (work !== "") await rm(work, { recursive: true, force: true });
});

const setUp = (): Packed => {
  if (packed === undefined) throw setUpFailure;
  return packed;
};

test("the tarball holds the license, the built library and its sources, and no tests or bench", (t) => {
  const { files } = setUp();
  t.true(files.includes("LICENSE"));
  t.true(files.includes("dist/src/index.js"));
  t.true(files.includes("dist/src/cli.js"));
  const stray = files.filter(
    (path) => !/^(dist\/src\/|src\/|LICENSE$|README\.md$|package\.json$)/.test(path),
  );
  t.deepEqual(stray, []);
});

test("every source map in the tarball points at sources inside the tarball", async (t) => {
  const { files, installed } = setUp();
  const inTarball = new Set(files);
  const maps = files.filter((path) => path.endsWith(".js.map"));
  const missing: string[] = [];
  for (const map of maps) {
    const { sources, sourceRoot } = JSON.parse(await readFile(join(installed, map), "utf8")) as {
      sources: string[];
      sourceRoot?: string;
    };
    for (const source of sources) {
      const path = normalize(join(dirname(map), sourceRoot ?? "", source));
      if (!inTarball.has(path)) missing.push(`${map} -> ${path}`);
    }
  }
  t.deepEqual(missing, []);
});

test("rxjs is a peer: the program's rxjs is the only copy", async (t) => {
  const { app, installed } = setUp();
  const manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  t.is(manifest.peerDependencies?.["rxjs"], "^7.8.0");
  t.is(manifest.dependencies?.["rxjs"], undefined);
  const rxjs = JSON.parse(
    await readFile(join(app, "node_modules", "rxjs", "package.json"), "utf8"),
  ) as { version: string };
  t.is(rxjs.version, PROGRAM_RXJS);
  t.false(existsSync(join(installed, "node_modules", "rxjs")));
});

test("the program's own TestScheduler drives the library's streams in virtual time", async (t) => {
  const { app } = setUp();
  await writeFile(join(app, "program.mjs"), PROGRAM);
  const ran = await run(process.execPath, ["program.mjs"], { cwd: app });
  t.is(ran.code, 0, ran.stderr);
  t.deepEqual(JSON.parse(ran.stdout), { sameObservableClass: true, mismatches: [] });
});

test("without optional packages nothing native is built; the library loads, -syslog says what is missing", async (t) => {
  const { app, installed } = setUp();
  const manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  t.truthy(manifest.optionalDependencies?.["unix-dgram"]);
  t.is(manifest.dependencies?.["unix-dgram"], undefined);
  t.false(existsSync(join(app, "node_modules", "unix-dgram")));

  const imported = await run(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      'const m = await import("tcp-fallback"); console.log(typeof m.createFallbackProxy);',
    ],
    { cwd: app },
  );
  t.is(imported.stdout, "function\n", imported.stderr);

  const cli = join(installed, "dist", "src", "cli.js");
  const syslog = await run(process.execPath, [cli, "-syslog", "127.0.0.1:0", "127.0.0.1:1"], {
    cwd: app,
  });
  t.is(syslog.code, 1);
  t.regex(
    syslog.stderr,
    /^tcp-fallback: -syslog needs the optional package unix-dgram, which is not installed \(npm install unix-dgram[^\n]*\)\n$/,
  );
});

/** The tarball installed as a service is: `npm install -g`, into a prefix of its own. */
interface GlobalInstall {
  /** `<prefix>/bin`, where npm links the commands. */
  readonly bin: string;
  /** The installed package. */
  readonly installed: string;
}

let globalInstall: Promise<GlobalInstall> | undefined;

/** A global install builds unix-dgram's native module: slow on a busy machine. */
const GLOBAL_INSTALL_TIMEOUT_MS = 120_000;

/**
 * Installs the tarball globally once, for the tests that need it, as a user would: optional
 * packages included (npm's global installs take them whatever --omit says).
 */
const installGlobally = (): Promise<GlobalInstall> =>
  (globalInstall ??= (async () => {
    const { tarball } = setUp();
    const prefix = join(work, "global");
    await npm(
      ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", tarball],
      work,
      GLOBAL_INSTALL_TIMEOUT_MS,
    );
    return {
      bin: join(prefix, "bin"),
      installed: join(prefix, "lib", "node_modules", "tcp-fallback"),
    };
  })());

// The commands start with `#!/usr/bin/env node`: the node running these tests must be found first.
const commandEnv = {
  ...process.env,
  PATH: [dirname(process.execPath), process.env["PATH"] ?? ""].join(delimiter),
};

test("npm install -g: both command names print the version", async (t) => {
  t.timeout(GLOBAL_INSTALL_TIMEOUT_MS + STEP_TIMEOUT_MS);
  const { bin } = await installGlobally();
  for (const name of ["tcp-fallback", "tcp_fallback"]) {
    const ran = await run(join(bin, name), ["--version"], { env: commandEnv });
    t.is(ran.code, 0, ran.stderr);
    t.is(ran.stdout, `tcp-fallback ${version}\n`, name);
  }
});

/**
 * What the package needs to run, and what only building and testing it needs. @types/node is
 * not on the second list: a dependency (mysql2) depends on it.
 */
const DEV_ONLY = [
  "@eslint/js",
  "@types/pg",
  "ava",
  "eslint",
  "playwright-core",
  "prettier",
  "typescript",
  "typescript-eslint",
];

test("npm install -g brings the dependencies and the rxjs peer, and no development tools", async (t) => {
  t.timeout(GLOBAL_INSTALL_TIMEOUT_MS + STEP_TIMEOUT_MS);
  const { installed } = await installGlobally();
  const manifest = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
  };
  // The list above keeps up with the manifest: a new development tool must be added to it.
  t.deepEqual(
    Object.keys(manifest.devDependencies).filter(
      (name) => !(name in manifest.peerDependencies) && name !== "@types/node",
    ),
    DEV_ONLY,
  );
  const modules = join(installed, "node_modules");
  t.deepEqual(
    DEV_ONLY.filter((name) => existsSync(join(modules, name))),
    [],
  );
  t.deepEqual(
    [...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)].filter(
      (name) => !existsSync(join(modules, name, "package.json")),
    ),
    [],
  );
});

test("the installed command relays a session and stops with exit 0 on SIGTERM", async (t) => {
  t.timeout(GLOBAL_INSTALL_TIMEOUT_MS + STEP_TIMEOUT_MS);
  const { bin } = await installGlobally();
  const echo = await startBackend();
  t.teardown(() => echo.close());
  const child = spawn(join(bin, "tcp-fallback"), ["127.0.0.1:0", echo.address], {
    env: commandEnv,
    stdio: ["ignore", "ignore", "pipe"],
    timeout: STEP_TIMEOUT_MS,
  });
  t.teardown(() => child.kill("SIGKILL"));
  let stderr = "";
  const closed = once(child, "close");
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const listening = /INFO Listening on 127\.0\.0\.1:(\d+)\n/.exec(stderr);
      if (listening) resolve(Number(listening[1]));
    });
    void closed.then(() => reject(new Error(`exited before listening:\n${stderr}`)));
  });
  t.is((await roundTrip(port, "installed and relaying")).toString(), "installed and relaying");
  child.kill("SIGTERM");
  const [code] = (await closed) as [number | null];
  t.is(code, 0, stderr);
  t.regex(stderr, /INFO Stopped\n$/);
});
