import type { IncomingMessage, ServerResponse } from "node:http";
import type { AdminAction } from "../../domain/health.js";
import type { Logger } from "../../domain/logger.js";
import type { AdminApi } from "./admin-api.js";
import { serveEventStream } from "./event-stream.js";
import { HttpError, readBody, readJson, sendJson } from "./http-json.js";
import { statusPageHandler } from "./status-page.js";
import { bearerCheck } from "./token.js";

/** An extra route (metrics, a program's own): true if it answered the request. */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface AdminRoutesOptions {
  /** When set, every request but the page's own HTML needs `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** Tried in order, after the token check, before the admin API's own routes. */
  readonly handlers?: ReadonlyArray<AdminHandler> | undefined;
  readonly api: AdminApi;
  readonly logger: Logger;
}

export interface AdminRoutes {
  /** A request listener for any Node HTTP server: the admin API on that server. */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Ends every open event stream. */
  close(): void;
}

const BACKEND_ACTIONS = new Set(["drain", "maint", "enable", "close-sessions"]);

const notAllowed = (allow: string): HttpError =>
  new HttpError(405, `method not allowed (allowed: ${allow})`, { allow });

const requireMethod = (req: IncomingMessage, allow: string): void => {
  if (!allow.split(", ").includes(req.method ?? "")) throw notAllowed(allow);
};

/**
 * The admin API as a request listener: the status page, status, events and actions, with the
 * token check. The page itself is served without a token (it holds no data; it asks for the
 * token and sends it with its own requests), so a browser can open it.
 */
export const createAdminRoutes = (options: AdminRoutesOptions): AdminRoutes => {
  const { api, logger } = options;
  const handlers = options.handlers ?? [];
  const authorized = options.token === undefined ? null : bearerCheck(options.token);
  const streams = new Set<() => void>();

  const backendIndex = (id: string): number => {
    const index = api.backendIndex(id);
    if (index === undefined) throw new HttpError(404, `no backend ${JSON.stringify(id)}`);
    return index;
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://admin").pathname;
    if (path === "/status") {
      requireMethod(req, "GET, HEAD");
      sendJson(res, 200, api.status());
      return;
    }
    if (path === "/events") {
      requireMethod(req, "GET");
      const end = serveEventStream(res, () => api.status(), api.events$);
      streams.add(end);
      res.once("close", () => streams.delete(end));
      return;
    }
    if (path === "/failback") {
      requireMethod(req, "POST");
      await readBody(req);
      api.failback();
      sendJson(res, 200, { ok: true, action: "failback" });
      return;
    }
    if (path === "/reload") {
      requireMethod(req, "POST");
      await readBody(req);
      if (api.reload === undefined)
        throw new HttpError(404, "no configuration file to reload (start with -config)");
      const outcome = await api.reload();
      if (outcome.ok) sendJson(res, 200, outcome);
      else
        sendJson(res, 422, {
          error: "reload refused: the running configuration stays",
          ...outcome,
        });
      return;
    }
    if (path === "/route") {
      requireMethod(req, "POST, DELETE");
      if (req.method === "DELETE") {
        await readBody(req);
        api.overrideRoute(null);
        sendJson(res, 200, { ok: true, route: "policy" });
        return;
      }
      const body = await readJson(req);
      const id = (body as { backend?: unknown } | null)?.backend;
      if (typeof id !== "string")
        throw new HttpError(400, 'expected {"backend": "<id>"}, the id of a backend');
      api.overrideRoute(backendIndex(id));
      sendJson(res, 200, { ok: true, route: "override", backend: id });
      return;
    }
    const match = /^\/backends\/([^/]+)\/([^/]+)$/.exec(path);
    if (match !== null && BACKEND_ACTIONS.has(match[2] ?? "")) {
      requireMethod(req, "POST");
      await readBody(req);
      const id = decodeURIComponent(match[1] ?? "");
      const index = backendIndex(id);
      const action = match[2] as AdminAction | "close-sessions";
      if (action === "close-sessions") {
        const closed = api.closeSessions(index);
        sendJson(res, 200, { ok: true, backend: id, action, closed: closed ?? null });
      } else {
        api.act(index, action);
        sendJson(res, 200, { ok: true, backend: id, action });
      }
      return;
    }
    throw new HttpError(404, `no such endpoint: ${path}`);
  };

  const failed = (res: ServerResponse, error: unknown): void => {
    if (error instanceof HttpError) {
      // A refused body may still be coming: close once answered rather than read it all.
      const headers =
        error.status === 413 ? { ...error.headers, connection: "close" } : error.headers;
      sendJson(res, error.status, { error: error.message }, headers);
      return;
    }
    logger.error(`Admin request failed: ${(error as Error).stack ?? String(error)}`);
    sendJson(res, 500, { error: "internal error" });
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      if (statusPageHandler(req, res)) return;
      if (authorized !== null && !authorized(req)) {
        sendJson(
          res,
          401,
          { error: "a valid Authorization: Bearer token is required" },
          { "www-authenticate": "Bearer" },
        );
        return;
      }
      for (const handler of handlers) if (handler(req, res)) return;
    } catch (error) {
      failed(res, error);
      return;
    }
    route(req, res).catch((error: unknown) => failed(res, error));
  };

  const close = (): void => {
    for (const end of streams) end();
    streams.clear();
  };

  return { listener, close };
};
