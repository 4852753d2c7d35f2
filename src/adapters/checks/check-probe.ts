import { type Observable, defer, from, switchMap } from "rxjs";
import type { Backend } from "../../domain/backend.js";
import type { CheckKind, CheckSettings, CheckSpec } from "../../domain/check.js";
import type { Probe, ProbeResult } from "../../domain/probe.js";
import { tcpConnectProbe } from "../prober.js";

/** Makes the probe of one check spec. */
type ProbeFactory = (check: CheckSpec, settings: CheckSettings) => Probe;

/**
 * Each protocol check is loaded the first time a backend needs it: a proxy that only connects
 * loads none of them, and one in front of PostgreSQL never loads the MySQL driver.
 */
const loaders: Partial<Record<CheckKind, () => Promise<ProbeFactory>>> = {};

/**
 * The check port's default adapter: every backend checked the way its spec says (a TCP connect
 * when it says nothing), bounded by `settings.timeoutMs`, with the given credentials.
 */
export const checkProbe = (settings: CheckSettings): Probe => {
  const tcp = tcpConnectProbe(settings.timeoutMs);
  const factories = new Map<CheckKind, Promise<ProbeFactory>>();
  const probes = new Map<number, Observable<Probe>>();
  const probeOf = (backend: Backend): Observable<Probe> => {
    let probe = probes.get(backend.index);
    if (probe === undefined) {
      const check = backend.check as CheckSpec;
      const load = loaders[check.kind];
      if (load === undefined) throw new Error(`no adapter for the ${check.kind} check`);
      let factory = factories.get(check.kind);
      if (factory === undefined) factories.set(check.kind, (factory = load()));
      probe = from(factory.then((make) => make(check, settings)));
      probes.set(backend.index, probe);
    }
    return probe;
  };
  return (backend): Observable<ProbeResult> =>
    backend.check === undefined || backend.check.kind === "tcp"
      ? from(tcp(backend))
      : defer(() => probeOf(backend)).pipe(switchMap((probe) => probe(backend)));
};
