import test from "ava";

import { formatJsonLine, formatLogLine, lineFormat } from "../../../src/adapters/log/format.js";

test("formats like Go's log: local YYYY/MM/DD HH:MM:SS, upper-case level, message", (t) => {
  // Local-time constructor, so the expectation holds in any timezone.
  const at = new Date(2026, 10, 26, 1, 50, 0);
  t.is(formatLogLine(at, "warn", "message"), "2026/11/26 01:50:00 WARN message");
});

test("pads every field", (t) => {
  const at = new Date(2027, 0, 2, 3, 4, 5);
  t.is(formatLogLine(at, "debug", "x y"), "2027/01/02 03:04:05 DEBUG x y");
});

test("json: one object with the time in ISO 8601 (UTC), the level in lower case and the message", (t) => {
  const at = new Date(Date.UTC(2026, 11, 1, 10, 0, 0, 250));
  const line = formatJsonLine(at, "warn", 'say "hi"\nthen go');
  t.is(line, '{"time":"2026-12-01T10:00:00.250Z","level":"warn","msg":"say \\"hi\\"\\nthen go"}');
  t.deepEqual(JSON.parse(line), {
    time: "2026-12-01T10:00:00.250Z",
    level: "warn",
    msg: 'say "hi"\nthen go',
  });
});

test("json: fields follow the fixed keys and cannot replace them", (t) => {
  const at = new Date(Date.UTC(2026, 11, 1, 10, 0, 0));
  t.is(
    formatJsonLine(at, "info", "Backend a:1 is down", {
      event: "backend-down",
      backend: "a:1",
      msg: "forged",
      level: "error",
    }),
    '{"time":"2026-12-01T10:00:00.000Z","level":"info","msg":"Backend a:1 is down","event":"backend-down","backend":"a:1"}',
  );
});

test("lineFormat: text and json as they are, away from the journal", (t) => {
  const at = new Date(2026, 11, 1, 10, 0, 0);
  t.is(lineFormat("text")(at, "info", "m"), "2026/12/01 10:00:00 INFO m");
  t.is(
    lineFormat("json")(at, "info", "m", { event: "e" }),
    formatJsonLine(at, "info", "m", { event: "e" }),
  );
});

test("lineFormat for the journal: no timestamp of its own, the level as a priority prefix", (t) => {
  const at = new Date(2026, 11, 1, 10, 0, 0);
  const text = lineFormat("text", true);
  t.is(text(at, "debug", "d"), "<7>DEBUG d");
  t.is(text(at, "info", "Backend a:1 is down"), "<6>INFO Backend a:1 is down");
  t.is(text(at, "warn", "w"), "<4>WARN w");
  t.is(text(at, "error", "e"), "<3>ERROR e");
  const json = lineFormat("json", true)(at, "warn", "w", { event: "probe-failed" });
  t.is(json, `<4>${formatJsonLine(at, "warn", "w", { event: "probe-failed" })}`);
});
