import test from "ava";
import { firstValueFrom, timeout } from "rxjs";
import { tcpConnectProbe } from "../../src/adapters/prober.js";
import type { Backend } from "../../src/domain/backend.js";
import type { ProbeResult } from "../../src/domain/probe.js";
import { refusedPort, startBackend } from "../helpers/net.js";

const backendAt = (port: number): Backend => ({
  index: 0,
  id: "b",
  address: { host: "127.0.0.1", port },
  label: `127.0.0.1:${port}`,
});

/** One probe over a real socket, and the wall time around it (from before the dial to the verdict). */
const probeTimed = async (port: number): Promise<{ result: ProbeResult; wallMs: number }> => {
  const started = performance.now();
  const result = await firstValueFrom(
    tcpConnectProbe(2_000)(backendAt(port)).pipe(timeout({ first: 5_000 })),
  );
  return { result, wallMs: performance.now() - started };
};

test("a TCP check that connects says how long the connect took", async (t) => {
  const backend = await startBackend();
  t.teardown(() => backend.close());
  const { result, wallMs } = await probeTimed(backend.port);
  t.true(result.ok);
  t.is(typeof result.latencyMs, "number");
  const latencyMs = result.latencyMs ?? -1;
  t.true(latencyMs >= 0, `latency ${latencyMs}`);
  t.true(latencyMs <= wallMs, `latency ${latencyMs} ms within the ${wallMs} ms the probe took`);
});

test("a TCP check that is refused says how long it took to fail", async (t) => {
  const { result, wallMs } = await probeTimed(await refusedPort());
  t.false(result.ok);
  t.regex(result.ok ? "" : result.reason, /ECONNREFUSED/);
  const latencyMs = result.latencyMs ?? -1;
  t.true(latencyMs >= 0, `latency ${latencyMs}`);
  t.true(latencyMs <= wallMs, `latency ${latencyMs} ms within the ${wallMs} ms the probe took`);
});
