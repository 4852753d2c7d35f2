import test from "ava";

import { formatLogLine } from "../../../src/adapters/log/format.js";

test("formats like Go's log: local YYYY/MM/DD HH:MM:SS, upper-case level, message", (t) => {
  // Local-time constructor, so the expectation holds in any timezone.
  const at = new Date(2026, 10, 26, 1, 50, 0);
  t.is(formatLogLine(at, "warn", "message"), "2026/11/26 01:50:00 WARN message");
});

test("pads every field", (t) => {
  const at = new Date(2027, 0, 2, 3, 4, 5);
  t.is(formatLogLine(at, "debug", "x y"), "2027/01/02 03:04:05 DEBUG x y");
});
