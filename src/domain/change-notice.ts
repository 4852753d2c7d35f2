import type { Backend } from "./backend.js";
import type { ProxyEvent } from "./proxy-event.js";
import type { Route } from "./route.js";

/** A backend's state changed: the events of ProxyEvent an operator is paged for. */
export type BackendChange = Extract<
  ProxyEvent,
  { type: "backend-down" | "backend-up" | "backend-rising" | "backend-falling" }
>;

export const BACKEND_CHANGES: ReadonlySet<ProxyEvent["type"]> = new Set([
  "backend-down",
  "backend-up",
  "backend-rising",
  "backend-falling",
]);

export const isBackendChange = (event: ProxyEvent): event is BackendChange =>
  BACKEND_CHANGES.has(event.type);

/**
 * What an on-change hook is told: a transition of the route or of a backend's state, with the
 * route as it stands once it happened.
 */
export type ChangeNotice =
  | {
      readonly type: "route-changed";
      readonly route: Route;
      readonly previous: Route;
      readonly at: number;
    }
  | (BackendChange & { readonly route: Route });

const labelsOf = (route: Route): ReadonlyArray<string> => route.map((b) => b.label);

const backendFields = (backend: Backend) => ({
  backend: backend.label,
  backendIndex: backend.index,
  backendId: backend.id,
});

/** The notice as a flat JSON-ready record: labels for backends, ISO time. */
export const noticeRecord = (notice: ChangeNotice): Record<string, unknown> => {
  const at = new Date(notice.at).toISOString();
  const route = labelsOf(notice.route);
  switch (notice.type) {
    case "route-changed":
      return { type: notice.type, route, previous: labelsOf(notice.previous), at };
    case "backend-down":
      return {
        type: notice.type,
        ...backendFields(notice.backend),
        reason: notice.reason,
        route,
        at,
      };
    case "backend-up":
      return {
        type: notice.type,
        ...backendFields(notice.backend),
        downtimeMs: notice.downtimeMs,
        route,
        at,
      };
    case "backend-rising":
      return {
        type: notice.type,
        ...backendFields(notice.backend),
        passed: notice.passed,
        rise: notice.rise,
        route,
        at,
      };
    case "backend-falling":
      return {
        type: notice.type,
        ...backendFields(notice.backend),
        reason: notice.reason,
        failed: notice.failed,
        fall: notice.fall,
        route,
        at,
      };
  }
};

/** The notice as one JSON line, newline included. */
export const noticeJsonLine = (notice: ChangeNotice): string =>
  `${JSON.stringify(noticeRecord(notice))}\n`;

/**
 * The notice as TCP_FALLBACK_* variables: EVENT, AT (ISO), ROUTE (labels, comma-separated),
 * PREVIOUS_ROUTE, and for a backend's change BACKEND (its label), BACKEND_INDEX, BACKEND_ID,
 * REASON where there is one.
 */
export const noticeEnv = (notice: ChangeNotice): Record<string, string> => {
  const env: Record<string, string> = {
    TCP_FALLBACK_EVENT: notice.type,
    TCP_FALLBACK_AT: new Date(notice.at).toISOString(),
    TCP_FALLBACK_ROUTE: labelsOf(notice.route).join(","),
  };
  if (notice.type === "route-changed") {
    env["TCP_FALLBACK_PREVIOUS_ROUTE"] = labelsOf(notice.previous).join(",");
    return env;
  }
  env["TCP_FALLBACK_BACKEND"] = notice.backend.label;
  env["TCP_FALLBACK_BACKEND_INDEX"] = String(notice.backend.index);
  env["TCP_FALLBACK_BACKEND_ID"] = notice.backend.id;
  if ("reason" in notice) env["TCP_FALLBACK_REASON"] = notice.reason;
  return env;
};

/** How logs name the notice: "backend-down 127.0.0.1:7001", "route-changed to b:2,c:3". */
export const describeNotice = (notice: ChangeNotice): string =>
  notice.type === "route-changed"
    ? `route-changed to ${labelsOf(notice.route).join(",") || "(none)"}`
    : `${notice.type} ${notice.backend.label}`;
