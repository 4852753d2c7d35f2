import test from "ava";

import { createLogger } from "../../../src/adapters/log/logger.js";
import type { LogSink } from "../../../src/adapters/log/sink.js";
import type { LogFields, LogLevelName } from "../../../src/domain/logger.js";

function memorySink(): LogSink & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    write: (level: LogLevelName, message: string) => void lines.push(`${level} ${message}`),
    reopen: () => undefined,
    close: () => Promise.resolve(),
  };
}

function logEverything(logger: ReturnType<typeof createLogger>, tag: string): void {
  logger.debug(`${tag} d`);
  logger.info(`${tag} i`);
  logger.warn(`${tag} w`);
  logger.error(`${tag} e`);
}

test("debug passes everything and enables debug", (t) => {
  const sink = memorySink();
  const logger = createLogger(sink, "debug");
  logEverything(logger, "x");
  t.deepEqual(sink.lines, ["debug x d", "info x i", "warn x w", "error x e"]);
  t.true(logger.debugEnabled);
});

test("info drops debug lines", (t) => {
  const sink = memorySink();
  const logger = createLogger(sink, "info");
  logEverything(logger, "x");
  t.deepEqual(sink.lines, ["info x i", "warn x w", "error x e"]);
  t.false(logger.debugEnabled);
});

test("error keeps only errors", (t) => {
  const sink = memorySink();
  logEverything(createLogger(sink, "error"), "x");
  t.deepEqual(sink.lines, ["error x e"]);
});

test("silent drops everything", (t) => {
  const sink = memorySink();
  const logger = createLogger(sink, "silent");
  logEverything(logger, "x");
  t.deepEqual(sink.lines, []);
  t.false(logger.debugEnabled);
});

test("loggers with the same name but different sinks and levels don't interfere", (t) => {
  const a = memorySink();
  const b = memorySink();
  const first = createLogger(a, "debug", "same");
  const second = createLogger(b, "warn", "same");
  logEverything(first, "a");
  logEverything(second, "b");
  t.deepEqual(a.lines, ["debug a d", "info a i", "warn a w", "error a e"]);
  t.deepEqual(b.lines, ["warn b w", "error b e"]);
});

function fieldSink(): LogSink & { entries: Array<[string, string, LogFields | undefined]> } {
  const entries: Array<[string, string, LogFields | undefined]> = [];
  return {
    entries,
    write: (level, message, fields) => void entries.push([level, message, fields]),
    reopen: () => undefined,
    close: () => Promise.resolve(),
  };
}

test("withFields: lines carry the fields (merged when nested), filtered by the same level", (t) => {
  const sink = fieldSink();
  const logger = createLogger(sink, "info");
  logger.info("plain");
  const withEvent = logger.withFields?.({ event: "backend-down", backend: "a:1" });
  t.false(withEvent?.debugEnabled);
  withEvent?.debug("dropped");
  withEvent?.warn("down");
  withEvent?.withFields?.({ backend: "b:2", extra: 1 }).error("nested");
  t.deepEqual(sink.entries, [
    ["info", "plain", undefined],
    ["warn", "down", { event: "backend-down", backend: "a:1" }],
    ["error", "nested", { event: "backend-down", backend: "b:2", extra: 1 }],
  ]);
});
