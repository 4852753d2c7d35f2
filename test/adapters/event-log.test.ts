import test from "ava";

import { logProxyEvent } from "../../src/adapters/event-log.js";
import { createLogger } from "../../src/adapters/log/logger.js";
import { backendsOf } from "../../src/domain/backend.js";
import type { LogFields, Logger } from "../../src/domain/logger.js";

const [backend] = backendsOf([
  { address: { host: "127.0.0.1", port: 7001 }, label: "127.0.0.1:7001" },
]);

test("an event's line carries its type and backend where the logger takes fields", (t) => {
  if (backend === undefined) throw new Error("no backend");
  const written: Array<[string, string, LogFields | undefined]> = [];
  const logger = createLogger(
    {
      write: (level, message, fields) => void written.push([level, message, fields]),
      reopen: () => undefined,
      close: () => Promise.resolve(),
    },
    "info",
  );
  logProxyEvent(logger, { type: "backend-down", backend, reason: "refused", at: 0 });
  logProxyEvent(logger, { type: "no-backend", at: 0 });
  t.deepEqual(written, [
    [
      "info",
      "Backend 127.0.0.1:7001 is down: refused",
      { event: "backend-down", backend: "127.0.0.1:7001" },
    ],
    ["warn", "Failed to connect to any backend", { event: "no-backend" }],
  ]);
});

test("a logger without withFields gets the same lines, and nothing else", (t) => {
  if (backend === undefined) throw new Error("no backend");
  const lines: unknown[][] = [];
  const record =
    (level: string) =>
    (...args: unknown[]) =>
      void lines.push([level, ...args]);
  const logger: Logger = {
    debug: record("debug"),
    info: record("info"),
    warn: record("warn"),
    error: record("error"),
    debugEnabled: false,
  };
  logProxyEvent(logger, { type: "backend-down", backend, reason: "refused", at: 0 });
  t.deepEqual(lines, [["info", "Backend 127.0.0.1:7001 is down: refused"]]);
});
