import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import * as t from "io-ts";
import type { SchedulerLike } from "rxjs";
import type { Probe } from "./probe.js";
import type { RoutePolicy } from "./route-policy.js";
import type { Address, BackendSpec } from "./backend.js";
import { AdminOption, type AdminSettings, adminProblem } from "./admin-options.js";
import { compileExpect } from "./check-text.js";
import { CommandWords } from "./command-line-words.js";
import { type CheckCredentials, type CheckSpec, checkLogsIn, formatCheck } from "./check.js";
import { defaults } from "./defaults.js";
import type { Logger } from "./logger.js";
import {
  BackendList,
  CheckCodec,
  DurationMs,
  functionCodec,
  ListenAddress,
  LoggerCodec,
  NonEmptyText,
  optionsDecoder,
  PositiveDurationMs,
  PositiveInteger,
  SchedulerCodec,
  SendProxyVersion,
} from "./option-codecs.js";
import type { ProxyProtocolVersion } from "./proxy-protocol.js";
import {
  KEEP_ON_FAILBACK,
  type OnDown,
  OnDownOption,
  type OnFailback,
  OnFailbackOption,
} from "./session-policy.js";

/**
 * One codec per option key, shared by every options object the library takes (pick the keys
 * another object needs: `optionsDecoder({ backends }, { probe, logger })`).
 */
export const proxyOptionCodecs = {
  listen: ListenAddress,
  backends: BackendList,
  connectTimeout: PositiveDurationMs,
  hedge: PositiveDurationMs,
  probeDelay: PositiveDurationMs,
  checkInterval: PositiveDurationMs,
  statsInterval: DurationMs,
  drainTimeout: DurationMs,
  onDown: OnDownOption,
  onFailback: OnFailbackOption,
  admin: AdminOption,
  rise: PositiveInteger,
  fall: PositiveInteger,
  check: CheckCodec,
  checkUser: NonEmptyText,
  checkPassword: t.string,
  checkDatabase: NonEmptyText,
  checkSend: t.string,
  checkExpect: t.string,
  route: functionCodec<RoutePolicy>("(health$) => Observable<Route>"),
  probe: functionCodec<Probe>("(backend) => Observable<ProbeResult>"),
  logger: LoggerCodec,
  scheduler: SchedulerCodec,
  onChange: CommandWords,
  sendProxy: SendProxyVersion,
  acceptProxy: t.boolean,
  maxconn: PositiveInteger,
  backendMaxconn: PositiveInteger,
  idleTimeout: PositiveDurationMs,
  keepalive: PositiveDurationMs,
  finTimeout: PositiveDurationMs,
};

const { listen, backends, ...optional } = proxyOptionCodecs;
const decodeProxyOptionsData = optionsDecoder({ listen, backends }, optional);

// ----- model

/** Proxy settings after decoding, with defaults filled in (the original program's defaults). */
export interface ProxySettings {
  readonly listen: Address;
  /** At least one, in priority order, each with the settings it has of its own. */
  readonly backends: ReadonlyArray<BackendSpec>;
  readonly connectTimeoutMs: number;
  /** A dial not done after this long has the next backend dialed too; undefined: off. */
  readonly hedgeMs?: number | undefined;
  readonly probeDelayMs: number;
  /** Check every backend, up ones too, this often; undefined: only down ones, every probeDelayMs. */
  readonly checkIntervalMs?: number | undefined;
  /** 0 turns periodic stats off. */
  readonly statsIntervalMs: number;
  readonly drainTimeoutMs: number;
  /** What happens to a backend's live connections when it is marked down. */
  readonly onDown: OnDown;
  /** What happens to connections on a fallback when new clients go back to an earlier backend. */
  readonly onFailback: OnFailback;
  /** Good checks in a row that mark a down backend up (1: one is enough). */
  readonly rise: number;
  /** Failures in a row that mark an up backend down (1: one is enough). */
  readonly fall: number;
  /** How backends without a check of their own are checked (a TCP connect by default). */
  readonly check: CheckSpec;
  /** Who the checks that log in (and redis AUTH) log in as. */
  readonly checkCredentials: CheckCredentials;
  /** The admin HTTP server's address and token; undefined: off. */
  readonly admin?: AdminSettings | undefined;
  /** A command (argv, no shell) run for every change of the route or of a backend's state. */
  readonly onChange?: ReadonlyArray<string> | undefined;
  /** A PROXY protocol header to every backend without a setting of its own; undefined: none. */
  readonly sendProxy?: ProxyProtocolVersion | undefined;
  /** Every client starts with a PROXY protocol header, read before routing; undefined: off. */
  readonly acceptProxy?: true | undefined;
  /** Live clients in this process at most: at the limit accepting pauses. Undefined: off. */
  readonly maxconn?: number | undefined;
  /** The live connections each backend without a `maxconn` of its own takes. Undefined: off. */
  readonly backendMaxconn?: number | undefined;
  /** A connection idle both ways this long is closed. Undefined: off. */
  readonly idleTimeoutMs?: number | undefined;
  /** TCP keepalive on both sockets, first probe after this long idle. Undefined: off. */
  readonly keepaliveMs?: number | undefined;
  /** Once one side has sent its FIN, the connection lives at most this long. Undefined: off. */
  readonly finTimeoutMs?: number | undefined;
}

/** Every option decoded: the settings, and the pieces that are code (absent: use the default). */
export interface ProxyOptions extends ProxySettings {
  readonly route?: RoutePolicy | undefined;
  readonly probe?: Probe | undefined;
  readonly logger?: Logger | undefined;
  readonly scheduler?: SchedulerLike | undefined;
}

// ----- decoding

/** The options both the proxy and the socket-less control plane take, as decoded. */
interface SharedOptionsData {
  readonly backends: ReadonlyArray<BackendSpec>;
  readonly connectTimeout?: number | undefined;
  readonly probeDelay?: number | undefined;
  readonly statsInterval?: number | undefined;
  readonly checkInterval?: number | undefined;
  readonly rise?: number | undefined;
  readonly fall?: number | undefined;
  readonly check?: CheckSpec | undefined;
  readonly checkUser?: string | undefined;
  readonly checkPassword?: string | undefined;
  readonly checkDatabase?: string | undefined;
  readonly checkSend?: string | undefined;
  readonly checkExpect?: string | undefined;
  readonly route?: RoutePolicy | undefined;
  readonly probe?: Probe | undefined;
  readonly logger?: Logger | undefined;
  readonly scheduler?: SchedulerLike | undefined;
}

/** Shared options with defaults filled in. */
export const sharedSettingsOf = (data: SharedOptionsData) => ({
  backends: data.backends,
  connectTimeoutMs: data.connectTimeout ?? defaults.connectTimeoutMs,
  probeDelayMs: data.probeDelay ?? defaults.probeDelayMs,
  checkIntervalMs: data.checkInterval,
  statsIntervalMs: data.statsInterval ?? defaults.statsIntervalMs,
  rise: data.rise ?? 1,
  fall: data.fall ?? 1,
  check: withSendExpect(data.check ?? TCP, data),
  checkCredentials: {
    user: data.checkUser,
    password: data.checkPassword,
    database: data.checkDatabase,
  },
  route: data.route,
  probe: data.probe,
  logger: data.logger,
  scheduler: data.scheduler,
});

const TCP: CheckSpec = { kind: "tcp" };

/** A send-expect check named by kind alone takes its text and pattern from their own options. */
const withSendExpect = (check: CheckSpec, data: SharedOptionsData): CheckSpec =>
  check.kind === "send-expect" && check.expect === "" && check.send === ""
    ? { kind: "send-expect", send: data.checkSend ?? "", expect: data.checkExpect ?? "" }
    : check;

/**
 * What no single option's codec can see: settings that only make sense together. Problems name
 * the option to add or remove.
 */
export const checkProblems = (data: SharedOptionsData): ReadonlyArray<string> => {
  const problems: string[] = [];
  const proxyCheck = withSendExpect(data.check ?? TCP, data);
  const checks = [
    proxyCheck,
    ...data.backends.flatMap((b) => (b.check === undefined ? [] : [b.check])),
  ];
  const where = (check: CheckSpec): string =>
    check === proxyCheck
      ? "options.check"
      : `options.backends[${data.backends.findIndex((b) => b.check === check)}].check`;
  for (const check of checks) {
    if (check.kind === "send-expect") {
      if (check.expect === "")
        problems.push(`${where(check)}: a send-expect check needs a pattern (options.checkExpect)`);
      else {
        const compiled = compileExpect(check.expect);
        if (E.isLeft(compiled)) problems.push(`${where(check)}: ${compiled.left}`);
      }
    }
    if (checkLogsIn(check) && data.checkUser === undefined)
      problems.push(
        `${where(check)}: the ${formatCheck(check)} check logs in: options.checkUser is needed`,
      );
  }
  if (proxyCheck.kind !== "send-expect") {
    if (data.checkSend !== undefined)
      problems.push(
        `options.checkSend: only a send-expect check sends text (options.check is ${formatCheck(proxyCheck)})`,
      );
    if (data.checkExpect !== undefined)
      problems.push(
        `options.checkExpect: only a send-expect check expects an answer (options.check is ${formatCheck(proxyCheck)})`,
      );
  }
  return [...new Set(problems)];
};

/** Decoded options and the problems no single codec could see. */
export const withCheckProblems = <D extends SharedOptionsData>(
  decoded: E.Either<ReadonlyArray<string>, D>,
): E.Either<ReadonlyArray<string>, D> =>
  E.chain((data: D) => {
    const problems = checkProblems(data);
    return problems.length > 0 ? E.left(problems) : E.right(data);
  })(decoded);

/** Decodes every option createFallbackProxy takes; on failure, one line per problem. */
export const decodeProxyOptions = (input: unknown): E.Either<ReadonlyArray<string>, ProxyOptions> =>
  pipe(
    withCheckProblems(decodeProxyOptionsData(input)),
    E.chain((data) => {
      const problem =
        data.admin === undefined
          ? null
          : adminProblem(data.admin, data.admin.token !== undefined, {
              admin: "options.admin",
              token: "a token (options.admin.token)",
            });
      return problem === null ? E.right(data) : E.left([problem]);
    }),
    E.map((data) => ({
      ...sharedSettingsOf(data),
      listen: data.listen,
      hedgeMs: data.hedge,
      drainTimeoutMs: data.drainTimeout ?? defaults.drainTimeoutMs,
      onDown: data.onDown ?? "keep",
      onFailback: data.onFailback ?? KEEP_ON_FAILBACK,
      // Present only when on, so settings without it look as they did.
      ...(data.admin === undefined ? {} : { admin: data.admin }),
      // Present only when given, so settings without a hook read as before.
      ...(data.onChange === undefined ? {} : { onChange: data.onChange }),
      ...(data.sendProxy === undefined ? {} : { sendProxy: data.sendProxy }),
      ...(data.acceptProxy === true ? { acceptProxy: true as const } : {}),
      ...limitsOf(data),
    })),
  );

/** The limits given, and only those: settings without limits read as before. */
const limitsOf = (data: {
  readonly maxconn?: number | undefined;
  readonly backendMaxconn?: number | undefined;
  readonly idleTimeout?: number | undefined;
  readonly keepalive?: number | undefined;
  readonly finTimeout?: number | undefined;
}): Pick<
  ProxySettings,
  "maxconn" | "backendMaxconn" | "idleTimeoutMs" | "keepaliveMs" | "finTimeoutMs"
> => ({
  ...(data.maxconn === undefined ? {} : { maxconn: data.maxconn }),
  ...(data.backendMaxconn === undefined ? {} : { backendMaxconn: data.backendMaxconn }),
  ...(data.idleTimeout === undefined ? {} : { idleTimeoutMs: data.idleTimeout }),
  ...(data.keepalive === undefined ? {} : { keepaliveMs: data.keepalive }),
  ...(data.finTimeout === undefined ? {} : { finTimeoutMs: data.finTimeout }),
});

/**
 * Checks options exactly as createFallbackProxy does (the same problems, the same lines,
 * joined by newlines) and returns the settings that are data.
 */
export const decodeProxySettings = (input: unknown): E.Either<string, ProxySettings> =>
  pipe(
    decodeProxyOptions(input),
    E.bimap(
      (problems) => problems.join("\n"),
      (options): ProxySettings => ({
        listen: options.listen,
        backends: options.backends,
        connectTimeoutMs: options.connectTimeoutMs,
        hedgeMs: options.hedgeMs,
        probeDelayMs: options.probeDelayMs,
        checkIntervalMs: options.checkIntervalMs,
        statsIntervalMs: options.statsIntervalMs,
        drainTimeoutMs: options.drainTimeoutMs,
        onDown: options.onDown,
        onFailback: options.onFailback,
        rise: options.rise,
        fall: options.fall,
        check: options.check,
        checkCredentials: options.checkCredentials,
        ...(options.admin === undefined ? {} : { admin: options.admin }),
        ...(options.onChange === undefined ? {} : { onChange: options.onChange }),
        ...(options.sendProxy === undefined ? {} : { sendProxy: options.sendProxy }),
        ...(options.acceptProxy === undefined ? {} : { acceptProxy: options.acceptProxy }),
        ...limitsOf({
          maxconn: options.maxconn,
          backendMaxconn: options.backendMaxconn,
          idleTimeout: options.idleTimeoutMs,
          keepalive: options.keepaliveMs,
          finTimeout: options.finTimeoutMs,
        }),
      }),
    ),
  );
