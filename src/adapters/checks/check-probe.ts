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
const loaders: Record<Exclude<CheckKind, "tcp">, () => Promise<ProbeFactory>> = {
  redis: async () => {
    const { redisCheck } = await import("./redis.js");
    return (_, settings) => redisCheck(settings);
  },
  "redis-primary": async () => {
    const { redisPrimaryCheck } = await import("./redis.js");
    return (_, settings) => redisPrimaryCheck(settings);
  },
  mysql: async () => {
    const { mysqlCheck } = await import("./mysql.js");
    return (_, settings) => mysqlCheck(settings);
  },
  "mysql-primary": async () => {
    const { mysqlPrimaryCheck } = await import("./mysql.js");
    return (_, settings) => mysqlPrimaryCheck(settings);
  },
  pgsql: async () => {
    const { pgsqlCheck } = await import("./pgsql.js");
    return (_, settings) => pgsqlCheck(settings);
  },
  "pgsql-primary": async () => {
    const { pgsqlPrimaryCheck } = await import("./pgsql.js");
    return (_, settings) => pgsqlPrimaryCheck(settings);
  },
  http: async () => {
    const { httpCheck } = await import("./http.js");
    return (check, settings) => httpCheck({ ...settings, path: (check as HttpSpec).path });
  },
  "send-expect": async () => {
    const { sendExpectCheck } = await import("./send-expect.js");
    return (check, settings) => {
      const { send, expect } = check as SendExpectSpec;
      // Checked when the options were decoded: a bad pattern never gets here.
      return sendExpectCheck({ ...settings, send, expect: new RegExp(expect) });
    };
  },
};

type HttpSpec = Extract<CheckSpec, { kind: "http" }>;
type SendExpectSpec = Extract<CheckSpec, { kind: "send-expect" }>;

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
      const load = loaders[check.kind as Exclude<CheckKind, "tcp">];
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
