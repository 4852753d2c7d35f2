// Run under a low descriptor limit (prlimit): fills the descriptor table, then dials the port
// given as argument, and prints as JSON what the dialer and the TCP probe made of it.
import { openSync } from "node:fs";
import { dialWithTimeout } from "../../src/adapters/dialer.js";
import { tcpConnectProbe } from "../../src/adapters/prober.js";
import type { ProbeResult } from "../../src/domain/probe.js";

const address = { host: "127.0.0.1", port: Number(process.argv[2]) };
const filler: number[] = [];
try {
  // Bounded by the limit the process runs under.
  for (let i = 0; i < 100_000; i++) filler.push(openSync("/dev/null", "r"));
} catch {
  // EMFILE: the table is full.
}
dialWithTimeout(address, 1_000, (dial) => {
  const probed: ProbeResult[] = [];
  tcpConnectProbe(1_000)({ index: 0, id: "backend", address, label: "backend" }).subscribe({
    next: (result) => probed.push(result),
    complete: () => {
      const { ok, ...failure } = dial.ok ? { ok: true } : dial;
      console.log(JSON.stringify({ filled: filler.length, dial: { ok, ...failure }, probed }));
    },
  });
});
