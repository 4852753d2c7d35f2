import test from "ava";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type DialOutcome, dialWithTimeout, isLocalDialError } from "../../src/adapters/dialer.js";
import { tcpConnectProbe } from "../../src/adapters/prober.js";
import type { ProbeResult } from "../../src/domain/probe.js";
import { refusedPort, startBackend } from "../helpers/net.js";

const run = promisify(execFile);
const script = fileURLToPath(new URL("../helpers/dial-out-of-descriptors.js", import.meta.url));

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });

test("dial errors of this host are local; the backend's or the network's are not", (t) => {
  for (const code of ["EMFILE", "ENFILE", "ENOBUFS", "EADDRNOTAVAIL", "ENOMEM"])
    t.true(isLocalDialError(errno(code)), code);
  for (const code of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"])
    t.false(isLocalDialError(errno(code)), code);
  t.false(isLocalDialError(new Error("no code")));
});

test("a refused dial is the backend's failure, not a local one", async (t) => {
  const port = await refusedPort();
  const outcome = await new Promise<DialOutcome>((resolve) =>
    dialWithTimeout({ host: "127.0.0.1", port }, 1_000, resolve),
  );
  t.like(outcome, { ok: false, local: false, aborted: false });
});

test("out of descriptors: the dial fails as local (EMFILE) and the TCP probe gives no verdict", async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const { stdout } = await run(
    "prlimit",
    ["--nofile=64:64", process.execPath, script, String(backend.port)],
    { timeout: 10_000 },
  );
  const report = JSON.parse(stdout) as {
    filled: number;
    dial: { ok: boolean; local?: boolean; reason?: string };
    probed: unknown[];
  };
  t.true(report.filled > 0);
  t.like(report.dial, { ok: false, local: true });
  t.regex(report.dial.reason ?? "", /EMFILE/);
  t.deepEqual(report.probed, []);
  // And with descriptors to spare, the same probe passes.
  const probed = await new Promise<ProbeResult>((resolve) =>
    tcpConnectProbe(1_000)({
      index: 0,
      id: "b",
      address: { host: "127.0.0.1", port: backend.port },
      label: "b",
    }).subscribe(resolve),
  );
  t.true(probed.ok);
});
